# Prints the `.. code-block:: yaml` blocks of a reStructuredText page, each dedented and opened by
# a line `### LINE` (the block's first line in the page). Used by regenerate.sh.
function flush(i) {
  while (n > 0 && buf[n] == "") n--
  if (n > 0) {
    print "### " start
    for (i = 1; i <= n; i++) print substr(buf[i], indent + 1)
  }
  n = 0
  inblock = 0
}
{
  if (inblock) {
    if ($0 ~ /^[ \t]*$/) {
      if (n > 0) buf[++n] = ""
      next
    }
    match($0, /^ */)
    if (n == 0 && $0 ~ /^ *:[a-z-]+:/) next  # the directive's options
    if (RLENGTH <= directive_indent) {
      flush()
    } else {
      if (n == 0) {
        indent = RLENGTH
        start = NR
      }
      buf[++n] = $0
      next
    }
  }
  if ($0 ~ /^ *\.\. code-block:: *yaml/) {
    match($0, /^ */)
    directive_indent = RLENGTH
    inblock = 1
    n = 0
  }
}
END { flush() }
