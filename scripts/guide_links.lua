-- scripts/guide_links.lua - pandoc filter for `make docs`: links between markdown pages point at the HTML pages.
function Link(el)
  if not el.target:match("^%a+:") then
    el.target = el.target:gsub("%.md$", ".html"):gsub("%.md#", ".html#")
  end
  return el
end
