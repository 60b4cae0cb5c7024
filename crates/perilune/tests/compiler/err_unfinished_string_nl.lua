x = "abc
"