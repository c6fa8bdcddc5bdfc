#!/usr/bin/env python3
"""Print the slot table of csrc/customer.c's perfect key hash (a developer
tool: run it after adding a key to hc_keys and paste its output; luaopen
refuses to load with a stale table). If two keys collide, search new
constants for KEY_HASH with the loop at the bottom."""
import re, sys
src = open(sys.argv[1] if len(sys.argv) > 1 else "csrc/customer.c").read()
names = re.findall(r'KEY(?:_R)?\("([A-Za-z]+)"', src)
enums = [e.strip() for e in re.search(r"enum \{(.*?)K_COUNT\s*\}", src, re.S).group(1)
         .replace("\n", " ").split(",") if e.strip()]
def h(n):
    L = len(n)
    return (L * 8 + ord(n[0]) * 29 + (ord(n[L - 1]) << 3) + ord(n[L // 2])) & 127
slots = ["-1"] * 128
for e, n in zip(enums, names):
    if slots[h(n)] != "-1":
        sys.exit("collision: %s and %s: choose new constants" % (n, slots[h(n)]))
    slots[h(n)] = e
for i in range(0, 128, 8):
    print("  " + ", ".join(slots[i:i + 8]) + ",")
