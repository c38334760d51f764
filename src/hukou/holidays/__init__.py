"""Holiday notices: the statutory calendar years the library does not know yet."""
