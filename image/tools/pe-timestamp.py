#!/usr/bin/env python3
"""Sets a PE/COFF image's TimeDateStamp to SOURCE_DATE_EPOCH and recomputes its CheckSum.

objcopy (binutils 2.40) stamps the current time into the PE header of the unified kernel image it
writes; this makes the file depend only on its inputs. usage: pe-timestamp.py FILE EPOCH
"""
import struct
import sys

path, epoch = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, "rb").read())
pe = struct.unpack_from("<I", data, 0x3C)[0]
if data[pe:pe + 4] != b"PE\0\0":
    sys.exit(f"{path}: not a PE image")
struct.pack_into("<I", data, pe + 8, epoch & 0xFFFFFFFF)
csum_at = pe + 24 + 64  # OptionalHeader.CheckSum (same offset for PE32 and PE32+)
struct.pack_into("<I", data, csum_at, 0)
if len(data) % 2:
    data.append(0)  # padding for the sum only, not written
total = 0
for (w,) in struct.iter_unpack("<H", data):
    total += w
    total = (total & 0xFFFF) + (total >> 16)
total = (total & 0xFFFF) + (total >> 16)
size = len(open(path, "rb").read())
struct.pack_into("<I", data, csum_at, (total + size) & 0xFFFFFFFF)
with open(path, "wb") as f:
    f.write(data[:size])
