"""An allocation-heavy Python program for bench/real/python.sh.

Deterministic: prints checksums that must match the reference run.
Usage: alloc_heavy.py N
"""
import json
import sys
import zlib


def main(n):
    # Many small strings in a dict, grown then half deleted.
    d = {}
    for i in range(n):
        d["key%d" % i] = ("v%d," % (i * 7)) * (1 + i % 13)
    for i in range(0, n, 2):
        del d["key%d" % i]
    print("dict", len(d), sum(len(v) for v in d.values()))

    # Tuples sorted, lists of lists.
    items = sorted(((len(v), k) for k, v in d.items()), reverse=True)
    print("sorted", items[0], items[-1], len(items))
    rows = [[j * i % 97 for j in range(i % 50)] for i in range(n // 4)]
    print("rows", sum(sum(r) for r in rows))

    # JSON round trips of nested objects.
    crc = 0
    for i in range(0, n, 200):
        doc = {"id": i, "tags": ["t%d" % (i % k + 1) for k in range(1, 30)],
               "sub": {"a": list(range(i % 100)), "b": "x" * (i % 500)}}
        s = json.dumps(doc, sort_keys=True)
        crc = zlib.crc32(s.encode(), crc)
        if json.loads(s) != doc:
            raise SystemExit("json round trip differs")
    print("json", crc)

    # String building by repeated concatenation and join.
    parts = []
    acc = ""
    for i in range(n // 2):
        acc += chr(97 + i % 26)
        if len(acc) > 1000:
            parts.append(acc)
            acc = ""
    text = "|".join(parts)
    print("text", len(text), zlib.crc32(text.encode()))

    # A set and a word count.
    words = text.replace("|", " ").split()
    counts = {}
    for w in words:
        counts[w[:7]] = counts.get(w[:7], 0) + 1
    print("words", len(counts), max(counts.values()))


if __name__ == "__main__":
    main(int(sys.argv[1]))
