repeat x()
