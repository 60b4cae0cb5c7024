-- os.exit(false) exits with status 1
print("before")
os.exit(false)
print("not reached")
