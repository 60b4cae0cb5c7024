-- An uncaught error whose value is a table without __tostring: no traceback.
print("start")
error({code = 1})
