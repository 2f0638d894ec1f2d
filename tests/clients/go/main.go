// pgx v4 through pgsoftdelete: filtered reads, pgx's statement cache (named server-side statements,
// the default), its describe mode and the simple protocol under session hints, a pgx.Batch with
// DELETEs and SELECTs, a refused TRUNCATE and a usable connection after it, and hint comments.
//
// Built by run.sh in GOPATH mode against Debian's packaged pgx (GO111MODULE=off
// GOPATH=/usr/share/gocode), run with PGSD_HOST, PGSD_PORT (the proxy), PGSD_DIRECT_PORT (the
// server itself), PGSD_USER, PGSD_DB.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/jackc/pgconn"
	"github.com/jackc/pgx/v4"
)

var (
	passed   int
	failures []string
	ctx      = context.Background()
)

func check(what string, got, want interface{}) {
	g, w := fmt.Sprint(got), fmt.Sprint(want)
	if g == w {
		passed++
		return
	}
	failures = append(failures, what)
	fmt.Printf("FAIL %s: got %s, want %s\n", what, g, w)
}

func mustEnv(name string) string {
	v := os.Getenv(name)
	if v == "" {
		fmt.Fprintf(os.Stderr, "missing environment variable %s\n", name)
		os.Exit(2)
	}
	return v
}

func connect(port, extra string) *pgx.Conn {
	dsn := fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=disable connect_timeout=10 %s",
		mustEnv("PGSD_HOST"), port, mustEnv("PGSD_USER"), mustEnv("PGSD_DB"), extra)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		fmt.Fprintf(os.Stderr, "connect %s: %v\n", dsn, err)
		os.Exit(2)
	}
	return c
}

// querier is what *pgx.Conn and pgx.Tx have in common here.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...interface{}) pgx.Row
	Exec(ctx context.Context, sql string, args ...interface{}) (pgconn.CommandTag, error)
}

// scalar is a query's single value as text, or "error <SQLSTATE>".
func scalar(q querier, sql string, args ...interface{}) string {
	var v interface{}
	if err := q.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
		return "error " + sqlstate(err)
	}
	return fmt.Sprint(v)
}

func exec(q querier, sql string, args ...interface{}) string {
	tag, err := q.Exec(ctx, sql, args...)
	if err != nil {
		return "error " + sqlstate(err)
	}
	return tag.String()
}

func sqlstate(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return err.Error()
}

func column(q *pgx.Conn, sql string) string {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return "error " + sqlstate(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, _ := rows.Values()
		var cells []string
		for _, v := range vals {
			cells = append(cells, fmt.Sprint(v))
		}
		out = append(out, strings.Join(cells, "/"))
	}
	if rows.Err() != nil {
		return "error " + sqlstate(rows.Err())
	}
	return strings.Join(out, ",")
}

// repeated runs the same query n times; the values it saw, joined.
func repeated(q querier, n int, sql string, args ...interface{}) string {
	var seen []string
	for i := 0; i < n; i++ {
		seen = append(seen, scalar(q, sql, args...))
	}
	return strings.Join(seen, " ")
}

func times(v string, n int) string { return strings.TrimSpace(strings.Repeat(v+" ", n)) }

// restore puts the seed's deleted flags back (rows are only soft-deleted here), on the server.
func restore(direct *pgx.Conn) {
	if _, err := direct.Exec(ctx, "UPDATE humans SET is_deleted = id IN (3, 5); UPDATE aliens SET is_deleted = id IN (2, 5)"); err != nil {
		fmt.Fprintln(os.Stderr, "restore:", err)
		os.Exit(2)
	}
}

// sessionHints runs the same queries before and after SET / RESET in one of pgx's query modes.
func sessionHints(mode, extra string) {
	c := connect(mustEnv("PGSD_PORT"), extra)
	defer c.Close(ctx)
	const humans = "SELECT count(*) FROM humans WHERE id > $1"
	const aliens = "SELECT count(*) FROM aliens"
	tag := mode + ": "
	check(tag+"humans, 5 runs", repeated(c, 5, humans, 0), times("3", 5))
	check(tag+"aliens, 5 runs", repeated(c, 5, aliens), times("3", 5))
	if mode == "statement cache (prepare)" {
		check(tag+"the cache's named statements are on the server",
			scalar(c, "SELECT count(*) >= 2 FROM pg_prepared_statements WHERE name LIKE 'lrupsc%'"), true)
	}
	check(tag+"SET skip", exec(c, "SET pgsoftdelete.skip = 'humans'"), "SET")
	check(tag+"humans after SET skip, 5 runs", repeated(c, 5, humans, 0), times("5", 5))
	check(tag+"aliens after SET skip=humans, 5 runs", repeated(c, 5, aliens), times("3", 5))
	check(tag+"current_setting", scalar(c, "SELECT current_setting('pgsoftdelete.skip')"), "humans")
	check(tag+"RESET", exec(c, "RESET pgsoftdelete.skip"), "RESET")
	check(tag+"humans after RESET, 5 runs", repeated(c, 5, humans, 0), times("3", 5))
	check(tag+"SET skip = '*'", exec(c, "SET pgsoftdelete.skip = '*'"), "SET")
	check(tag+"aliens after SET skip=*, 5 runs", repeated(c, 5, aliens), times("5", 5))
	check(tag+"RESET ALL", exec(c, "RESET ALL"), "RESET")
	check(tag+"aliens after RESET ALL, 5 runs", repeated(c, 5, aliens), times("3", 5))
}

func main() {
	c := connect(mustEnv("PGSD_PORT"), "")
	defer c.Close(ctx)
	direct := connect(mustEnv("PGSD_DIRECT_PORT"), "")
	defer direct.Close(ctx)
	fmt.Printf("pgx v4 (Debian golang-github-jackc-pgx-v4-dev), %s, server %s\n", runtime.Version(),
		c.PgConn().ParameterStatus("server_version"))

	// Filtered reads, and an outer join that keeps its meaning.
	check("humans through the proxy", scalar(c, "SELECT count(*) FROM humans"), 3)
	check("aliens through the proxy", scalar(c, "SELECT count(*) FROM aliens"), 3)
	check("humans directly", scalar(direct, "SELECT count(*) FROM humans"), 5)
	check("aliens directly", scalar(direct, "SELECT count(*) FROM aliens"), 5)
	check("live humans by name", column(c, "SELECT name FROM humans ORDER BY name"), "Ada,Edsger,Grace")
	check("LEFT JOIN keeps aliens whose human is deleted",
		column(c, "SELECT a.name, h.name FROM aliens a LEFT JOIN humans h ON h.id = a.human_id ORDER BY a.id"),
		"Zorg/Ada,Quux/<nil>,Blip/<nil>")

	// pgx's statement cache (v4's default: named server-side statements), describe mode, simple protocol.
	sessionHints("statement cache (prepare)", "")
	sessionHints("statement cache (describe)", "statement_cache_mode=describe")
	sessionHints("simple protocol", "prefer_simple_protocol=true")

	// An explicitly prepared statement, executed by name.
	if _, err := c.Prepare(ctx, "live_humans", "SELECT count(*) FROM humans WHERE id > $1"); err != nil {
		check("Prepare", err, nil)
	}
	check("prepared by name", repeated(c, 3, "live_humans", 0), times("3", 3))
	exec(c, "SET pgsoftdelete.skip = 'humans'")
	check("prepared by name after SET skip", repeated(c, 3, "live_humans", 0), times("5", 3))
	exec(c, "RESET pgsoftdelete.skip")
	check("prepared by name after RESET", repeated(c, 3, "live_humans", 0), times("3", 3))

	// A block of work: SET LOCAL in a transaction.
	err := c.BeginFunc(ctx, func(tx pgx.Tx) error {
		check("SET LOCAL", exec(tx, "SET LOCAL pgsoftdelete.skip = '*'"), "SET")
		check("SET LOCAL: humans in the transaction", scalar(tx, "SELECT count(*) FROM humans WHERE id > $1", 0), 5)
		check("SET LOCAL: aliens in the transaction", scalar(tx, "SELECT count(*) FROM aliens"), 5)
		return nil
	})
	check("SET LOCAL: commit", err, nil)
	check("SET LOCAL: humans after COMMIT", scalar(c, "SELECT count(*) FROM humans WHERE id > $1", 0), 3)

	// DELETE answers DELETE 1 and only flags the row.
	check("Exec DELETE (extended protocol)", exec(c, "DELETE FROM humans WHERE id = $1", 1), "DELETE 1")
	check("Exec DELETE of a deleted row", exec(c, "DELETE FROM humans WHERE id = $1", 1), "DELETE 0")
	check("Exec DELETE (simple protocol)", exec(c, "DELETE FROM aliens WHERE id = 1"), "DELETE 1")
	check("deleted rows still exist, flagged",
		scalar(direct, "SELECT count(*) FROM humans h JOIN aliens a ON a.id = h.id WHERE h.id = 1 AND h.is_deleted AND a.is_deleted"), 1)
	restore(direct)

	// A pgx.Batch: SELECTs and DELETEs in one pipeline.
	b := &pgx.Batch{}
	b.Queue("SELECT count(*) FROM humans")
	b.Queue("DELETE FROM humans WHERE id = $1", 1)
	b.Queue("DELETE FROM humans WHERE id = $1", 3) // already deleted
	b.Queue("SELECT count(*) FROM humans")
	b.Queue("SELECT count(*) FROM humans WHERE id = $1", 1)
	br := c.SendBatch(ctx, b)
	var before, after, one int64
	check("batch: SELECT before", br.QueryRow().Scan(&before), nil)
	tag1, err1 := br.Exec()
	tag2, err2 := br.Exec()
	check("batch: SELECT after", br.QueryRow().Scan(&after), nil)
	check("batch: the deleted row is filtered", br.QueryRow().Scan(&one), nil)
	check("batch: close", br.Close(), nil)
	check("batch: counts", fmt.Sprint(before, after, one), "3 2 0")
	check("batch: DELETE's CommandTag", fmt.Sprint(tag1, err1), "DELETE 1 <nil>")
	check("batch: DELETE's RowsAffected", tag1.RowsAffected(), 1)
	check("batch: DELETE of a deleted row", fmt.Sprint(tag2, err2), "DELETE 0 <nil>")
	check("batch: the row is flagged directly", scalar(direct, "SELECT is_deleted FROM humans WHERE id = 1"), true)
	restore(direct)

	// The same batch over the simple protocol: one multi-statement Query.
	simple := connect(mustEnv("PGSD_PORT"), "prefer_simple_protocol=true")
	b = &pgx.Batch{}
	b.Queue("DELETE FROM aliens WHERE id = $1", 1)
	b.Queue("SELECT count(*) FROM aliens")
	b.Queue("DELETE FROM aliens WHERE id IN (2, 3)")
	br = simple.SendBatch(ctx, b)
	tag1, err1 = br.Exec()
	var left int64
	check("simple batch: SELECT", br.QueryRow().Scan(&left), nil)
	tag2, err2 = br.Exec()
	check("simple batch: close", br.Close(), nil)
	check("simple batch: tags and count", fmt.Sprint(tag1, err1, left, tag2, err2), "DELETE 1 <nil> 2 DELETE 1 <nil>")
	simple.Close(ctx)
	restore(direct)

	// A batch with the refused TRUNCATE in the middle. The proxy refuses a statement as if it did
	// not parse. Extended protocol: pgx prepares every statement of a batch first (Parse,
	// Describe, Sync each), so the batch fails before anything of it is sent. Simple protocol: the
	// batch is one multi-statement Query, which PostgreSQL parses whole before running any of it,
	// so none of it runs. Either way every result carries the error and nothing is kept.
	for _, mode := range []string{"", "prefer_simple_protocol=true"} {
		name := "extended"
		if mode != "" {
			name = "simple"
		}
		bc := connect(mustEnv("PGSD_PORT"), mode)
		b = &pgx.Batch{}
		b.Queue("DELETE FROM humans WHERE id = $1", 1)
		b.Queue("TRUNCATE humans")
		b.Queue("SELECT count(*) FROM humans WHERE id > $1", 0)
		br = bc.SendBatch(ctx, b)
		tag1, err1 := br.Exec()
		_, err2 := br.Exec()
		_, err3 := br.Exec()
		br.Close()
		got := fmt.Sprint(sqlstate(err1), " / ", sqlstate(err2), " / ", err3 != nil)
		if err1 == nil {
			got = fmt.Sprint(tag1, " / ", sqlstate(err2), " / ", err3 != nil)
		}
		check(name+" batch with TRUNCATE: results", got, "0A000 / 0A000 / true")
		check(name+" batch with TRUNCATE: the DELETE is not kept", scalar(direct, "SELECT is_deleted FROM humans WHERE id = 1"), false)
		check(name+" batch with TRUNCATE: the connection answers", scalar(bc, "SELECT count(*) FROM humans WHERE id > $1", 0), 3)
		bc.Close(ctx)
	}

	// COPY … TO STDOUT is filtered too.
	var out strings.Builder
	copied, err := c.PgConn().CopyTo(ctx, &out, "COPY humans (id, name) TO STDOUT")
	check("CopyTo: rows", fmt.Sprint(copied.RowsAffected(), err), "3 <nil>")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	sort.Strings(lines)
	check("CopyTo: data", strings.Join(lines, ","), "1\tAda,2\tGrace,4\tEdsger")

	// TRUNCATE of a rule table: *pgconn.PgError 0A000, and the connection goes on.
	_, err = c.Exec(ctx, "TRUNCATE humans")
	var pgErr *pgconn.PgError
	check("TRUNCATE humans: a *pgconn.PgError", errors.As(err, &pgErr), true)
	if pgErr != nil {
		check("TRUNCATE humans: Code", pgErr.Code, "0A000")
	}
	check("after TRUNCATE: the connection answers", scalar(c, "SELECT count(*) FROM humans"), 3)
	check("after TRUNCATE: the cached statement answers", scalar(c, "SELECT count(*) FROM humans WHERE id > $1", 0), 3)
	check("after TRUNCATE: nothing truncated", scalar(direct, "SELECT count(*) FROM humans"), 5)
	tx, err := c.Begin(ctx)
	check("Begin", err, nil)
	check("TRUNCATE in a transaction", exec(tx, "TRUNCATE aliens"), "error 0A000")
	check("the transaction is failed", scalar(tx, "SELECT 1"), "error 25P02")
	check("Rollback", tx.Rollback(ctx), nil)
	check("after Rollback: the connection answers", scalar(c, "SELECT count(*) FROM aliens"), 3)

	// Hint comments, through the statement cache too.
	check("leading comment, cached statement",
		repeated(c, 3, "/* pgsoftdelete: skip=* */ SELECT count(*) FROM humans WHERE id > $1", 0), times("5", 3))
	check("sqlcommenter form",
		scalar(c, "SELECT count(*) FROM aliens /*pgsoftdelete.skip='humans%2Caliens'*/"), 5)
	check("the hint does not outlive its statement", scalar(c, "SELECT count(*) FROM humans WHERE id > $1", 0), 3)

	if len(failures) > 0 {
		fmt.Printf("FAILED %d of %d checks\n", len(failures), passed+len(failures))
		os.Exit(1)
	}
	fmt.Printf("PASS %d checks\n", passed)
}
