"""Allocation-heavy Python workload for verify/real.sh: dicts, lists, sets,
strings, a JSON round trip and sorting.  Deterministic: it prints the same
lines on every heap, the last one a checksum of everything it built."""
import hashlib
import json
import random

rng = random.Random(20240601)
digest = hashlib.sha256()


def words(n):
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 12)))
            for _ in range(n)]


# Dicts and lists of many sizes; delete half, grow again (free lists reused).
table = {}
for i in range(200_000):
    table[f"key{i}"] = [i, str(i) * (i % 7), {"n": i}]
for i in range(0, 200_000, 2):
    del table[f"key{i}"]
for i in range(100_000):
    table[("t", i)] = bytearray(i % 300)
digest.update(str(len(table)).encode())

# Strings: build, split, join, replace; a few large ones.
vocab = words(50_000)
text = " ".join(vocab)
for _ in range(5):
    text = text.replace("a", "aa").replace("aa", "a")
parts = text.split(" ")
digest.update("|".join(sorted(set(parts))).encode())
big = ["x" * (1 << k) for k in range(24)]
digest.update(str(sum(map(len, big))).encode())

# A JSON round trip of a nested structure.
doc = {"items": [{"id": i, "name": vocab[i % len(vocab)], "tags": vocab[i % 97:i % 97 + i % 5],
                  "score": (i * 7919) % 1000 / 7} for i in range(60_000)]}
s = json.dumps(doc, sort_keys=True)
back = json.loads(s)
assert back == doc
digest.update(s.encode())

# Sorting and sets of tuples; list growth by append and slicing.
pairs = [(rng.random(), w) for w in vocab * 4]
pairs.sort()
digest.update(repr(pairs[:1000]).encode())
acc = []
for i in range(300_000):
    acc.append((i, i * i))
    if i % 1000 == 999:
        acc = acc[len(acc) // 2:]
digest.update(repr(acc[-10:]).encode())
s1 = {w for w in vocab if len(w) > 5}
s2 = {w[::-1] for w in vocab}
digest.update(repr(sorted(s1 & s2)[:100]).encode())

print("entries", len(table), "words", len(parts), "json bytes", len(s))
print("checksum", digest.hexdigest())
