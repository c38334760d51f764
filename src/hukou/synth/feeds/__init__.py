"""One module per department: what it knows, in its own columns, codes, formats and habits."""
