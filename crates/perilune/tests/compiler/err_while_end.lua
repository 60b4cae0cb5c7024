while x do

x()