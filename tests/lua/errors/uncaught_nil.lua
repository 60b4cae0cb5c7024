-- error(nil) uncaught: nothing is printed, exit status 1.
print("start")
error(nil)
