# platform/common/embed.cmake - cmake -DIN=file -DOUT=file.c -DNAME=sym -P embed.cmake:
# writes the bytes of IN as `const unsigned char NAME[]` and `const unsigned long NAME_len`.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE ${OUT} "/* Generated from ${IN} by embed.cmake: do not edit. */\n"
  "extern const unsigned char ${NAME}[];\nextern const unsigned long ${NAME}_len;\n"
  "const unsigned char ${NAME}[] = {\n${body}\n};\n"
  "const unsigned long ${NAME}_len = ${bytes};\n")
