#!/bin/sh
# `make alloc-json`: allocation failure in the JSON code. fuzz/alloc_json.c,
# built with ASan and UBSan against Lua 5.4 and the csrc/ JSON sources, makes
# the k-th allocation of a decode (or encode) fail for every k, in three modes
# (all from k on; only k; k and Lua's retry), over representative inputs:
# the spec fixtures, mock pages of 1, 20 and 100 customers, and texts that
# reach the decoder's other paths (deep nesting, long arrays and objects,
# escapes, duplicate keys, slow-path numbers, customData lists, errors).
# Every outcome must be the normal result or a memory error, and lua_close
# must give back every byte. Prints one summary line; exit 1 on any failure.
# Needs: clang (or gcc) with ASan/UBSan, liblua5.4-dev, lua5.4, lua-socket.
cd "$(dirname "$0")/.." || exit 1
OUT=build/alloc-json
CC=${ALLOC_CC:-$(command -v clang || command -v gcc)}
mkdir -p "$OUT/inputs"
rm -f "$OUT"/inputs/*
# shellcheck disable=SC2046
$CC -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -std=gnu99 -Wall -Wextra \
  -Werror -D_GNU_SOURCE $(pkg-config --cflags lua5.4) $(pkg-config --cflags libcurl 2>/dev/null) \
  -o "$OUT/alloc_json" fuzz/alloc_json.c csrc/json_decode.c csrc/json_encode.c csrc/json_number.c \
  csrc/customer.c $(pkg-config --libs lua5.4) -lm || exit 1

cp spec/fixtures/*.json "$OUT/inputs/"
lua5.4 - "$OUT/inputs" <<'EOF' || exit 1
local dir = arg[1]
local function put(name, text)
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(text)
  f:close()
end
put("deep-lists.json", ("["):rep(300) .. "1" .. ("]"):rep(300))
put("deep-objects.json", ('{"a":[1,'):rep(150) .. "{}" .. ("]}"):rep(150))
put("too-deep.json", ("["):rep(600) .. ("]"):rep(600))
local items = {}
for i = 1, 300 do items[i] = tostring(i * 7919) end
put("long-list.json", "[" .. table.concat(items, ",") .. "]")
local pairs_ = {}
for i = 1, 150 do pairs_[i] = ('"k%d":"v%d"'):format(i, i) end
put("big-object.json", "{" .. table.concat(pairs_, ",") .. ',"k7":null,"k9":1}')
put("escapes.json", '["' .. ('\\u00e9\\n\\"x\\ud83d\\ude00'):rep(200) .. '","' .. ("y"):rep(3000) .. '"]')
put("numbers.json", "[0.30000000000000004,1.5e300,-0,123456789012345678901234567890," ..
  "2.2250738585072011e-308,9223372036854775807,-9223372036854775808,1e400," ..
  "0." .. ("0"):rep(400) .. "1]")
put("customdata.json", '{"data":[{"firstSeen":"1234567890123456789","customData":[{"property":"a",' ..
  '"value":1},{"property":"a","value":null},{"property":"b","value":[1,{"c":2}]}],"tags":null}]}')
put("duplicates.json", '{"data":[{"name":"a","name":"b","x":1,"x":null}],"data":[{"id":2}]}')
put("broken-late.json", '{"data":[{"id":1,"name":"x"},{"id":2,"name":"y"}],"total":2,"x":[1,2,')
EOF
lua5.4 - "$OUT/inputs" <<'EOF' || echo "alloc-json: no mock pages (lua-socket?)"
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local spawn = require "helpcrunch.mock.spawn"
local http, ltn12 = require "socket.http", require "ltn12"
local mock = spawn.start { customers = 300, seed = 1, quiet = true, lua = "lua5.4" }
for _, n in ipairs { 1, 20, 100 } do
  local out = {}
  http.request { url = mock.url .. "/customers?offset=100&limit=" .. n, sink = ltn12.sink.table(out),
                 headers = { authorization = "Bearer alloc" } }
  local f = assert(io.open(arg[1] .. "/mock-page-" .. n .. ".json", "wb"))
  f:write(table.concat(out))
  f:close()
end
mock:stop()
EOF

"$OUT/alloc_json" "$OUT"/inputs/* >"$OUT/decode.log" 2>&1
rc1=$?
"$OUT/alloc_json" --encode >"$OUT/encode.log" 2>&1
rc2=$?
if [ "$rc1" -ne 0 ] || [ "$rc2" -ne 0 ]; then
  cat "$OUT/decode.log" "$OUT/encode.log" | grep -v '^  ' | head -20
  echo "alloc-json: FAILED (logs in $OUT/)"
  exit 1
fi
sed 's/^/  /' "$OUT/decode.log" | grep -v 'alloc-json:'
echo "decode: $(tail -1 "$OUT/decode.log" | sed 's/^alloc-json: //')"
echo "encode: $(tail -1 "$OUT/encode.log" | sed 's/^alloc-json: //')"
