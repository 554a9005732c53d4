-- sqlite3 workload for verify/real.sh: bulk insert, indexes, joins,
-- aggregates, updates, deletes, a vacuum; prints results and checksums.
PRAGMA journal_mode = WAL;
PRAGMA cache_size = -65536;
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, payload BLOB);
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120000)
INSERT INTO item SELECT i, (i * 7919) % 997, printf('name-%08d-%s', i, substr('abcdefghijklmnop', 1 + i % 16)),
  zeroblob(i % 700) FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 996)
INSERT INTO grp SELECT i, 'group ' || (i * 31 % 101) FROM n;
CREATE INDEX item_grp ON item(grp, name);
CREATE INDEX item_name ON item(name DESC);
SELECT count(*), sum(length(payload)), max(name) FROM item;
SELECT g.label, count(*), sum(i.id) FROM item i JOIN grp g ON g.id = i.grp
  GROUP BY g.label ORDER BY g.label LIMIT 20;
UPDATE item SET name = upper(name) || '!', payload = randomblob(0) WHERE id % 3 = 0;
DELETE FROM item WHERE grp BETWEEN 100 AND 300;
SELECT count(*), total(id), group_concat(substr(name, 1, 3), '') IS NOT NULL FROM item;
SELECT name FROM item WHERE name LIKE 'NAME-0001%' ORDER BY name DESC LIMIT 5;
VACUUM;
SELECT grp, count(*), min(name), max(name) FROM item GROUP BY grp ORDER BY count(*) DESC, grp LIMIT 10;
SELECT sum(unicode(substr(name, 6, 1)) * id) % 1000000007 FROM item;
PRAGMA integrity_check;
