#!/usr/bin/env bash
# sqlite3 on an in-memory database: bulk insert, index, joins, group by,
# update and delete; the query results must match the reference.
source "$(dirname "$0")/lib.sh"
make_input() {
  local n; n=$(scaled 300000 5000)
  cat > "$W/work.sql" <<SQL
PRAGMA cache_size = -200000;
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, val REAL, note TEXT);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $n)
INSERT INTO t SELECT i, printf('name-%08x', (i * 2654435761) % 4294967296), i % 997,
                     (i * 37 % 1000) / 10.0, printf('%.*c', i % 200, 'n') || (i % 7)
FROM c;
CREATE INDEX t_grp ON t(grp);
CREATE INDEX t_name ON t(name);
CREATE TABLE g AS SELECT grp, count(*) AS n, sum(val) AS s, max(length(note)) AS m FROM t GROUP BY grp;
SELECT count(*), sum(n), round(sum(s), 2), max(m) FROM g;
SELECT grp, n, round(s, 2) FROM g ORDER BY s DESC, grp LIMIT 5;
UPDATE t SET note = note || name WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*), sum(length(note)), min(name), max(name) FROM t;
SELECT t.grp, count(*) FROM t JOIN g ON g.grp = t.grp WHERE g.n > 300 GROUP BY t.grp ORDER BY 2 DESC, 1 LIMIT 3;
SELECT name FROM t ORDER BY note DESC, name LIMIT 3;
SELECT group_concat(name, ',') IS NOT NULL, length(group_concat(note, '')) FROM t WHERE grp < 50;
SQL
}
run_it() { under_test sqlite3 :memory: < "$W/work.sql" > "$W/out"; }
real_main "$@"
