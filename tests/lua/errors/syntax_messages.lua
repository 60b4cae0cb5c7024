-- Syntax errors reported by loadstring-free means: a chunk fails to compile.
-- (Only the first error of a script is reported, so this file has exactly one.)
print("never")
for i = 1 do end
