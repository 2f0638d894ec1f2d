// pgjdbc through pgsoftdelete: filtered reads, server-side prepared statements under session hints,
// DELETE counts (single, prepared, batched), a refused TRUNCATE and a usable connection after it,
// and the hint comment Hibernate writes with hibernate.use_sql_comments + Query.setComment.
//
// Run by run.sh as `java -cp /usr/share/java/postgresql.jar Main.java` with PGSD_HOST, PGSD_PORT
// (the proxy), PGSD_DIRECT_PORT (the server itself), PGSD_USER, PGSD_DB.
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

public class Main {
  static int passed = 0;
  static final List<String> failures = new ArrayList<>();

  static void check(String what, Object got, Object want) {
    if (String.valueOf(got).equals(String.valueOf(want))) {
      passed++;
    } else {
      failures.add(what + ": got " + got + ", want " + want);
      System.out.println("FAIL " + what + ": got " + got + ", want " + want);
    }
  }

  static String env(String name) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty()) throw new IllegalStateException("missing environment variable " + name);
    return v;
  }

  static Connection connect(String port, String extra) throws SQLException {
    String url = "jdbc:postgresql://" + env("PGSD_HOST") + ":" + port + "/" + env("PGSD_DB")
        + "?connectTimeout=10&socketTimeout=30" + extra;
    Properties props = new Properties();
    props.setProperty("user", env("PGSD_USER"));
    return DriverManager.getConnection(url, props);
  }

  static String scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  static String column(Connection c, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        StringBuilder row = new StringBuilder();
        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
          if (i > 1) row.append('/');
          row.append(rs.getString(i));
        }
        out.add(row.toString());
      }
    }
    return String.join(",", out);
  }

  /** The seed's deleted flags again (rows are only ever soft-deleted here), straight on the server. */
  static void restore(Connection direct) throws SQLException {
    try (Statement s = direct.createStatement()) {
      s.executeUpdate("UPDATE humans SET is_deleted = id IN (3, 5)");
      s.executeUpdate("UPDATE aliens SET is_deleted = id IN (2, 5)");
    }
  }

  static void exec(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** Runs one PreparedStatement `times` times; the counts it saw, joined. */
  static String runPrepared(PreparedStatement ps, int times) throws SQLException {
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < times; i++) {
      ps.setInt(1, 0);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        seen.add(rs.getString(1));
      }
    }
    return String.join(" ", seen);
  }

  /** Every result of one execute(): "rows <first value>" or "count <n>", joined. */
  static String results(Statement s, String sql) throws SQLException {
    List<String> seen = new ArrayList<>();
    boolean isResult = s.execute(sql);
    while (true) {
      if (isResult) {
        try (ResultSet rs = s.getResultSet()) {
          rs.next();
          seen.add("rows " + rs.getString(1));
        }
      } else if (s.getUpdateCount() == -1) {
        break;
      } else {
        seen.add("count " + s.getUpdateCount());
      }
      isResult = s.getMoreResults();
    }
    return String.join(", ", seen);
  }

  static String repeat(String value, int times) {
    String[] all = new String[times];
    Arrays.fill(all, value);
    return String.join(" ", all);
  }

  /** Server-side prepared statements under SET / RESET, with the given prepareThreshold. */
  static void preparedUnderSessionHints(String threshold) throws SQLException {
    String tag = "prepareThreshold=" + threshold + ": ";
    try (Connection c = connect(env("PGSD_PORT"), threshold.equals("default") ? "" : "&prepareThreshold=" + threshold);
        PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM humans WHERE id > ?")) {
      check(tag + "8 executions, no hint", runPrepared(ps, 8), repeat("3", 8));
      check(tag + "pgjdbc uses a server-side statement", ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare(), true);
      check(tag + "a named statement exists on the server",
          scalar(c, "SELECT count(*) > 0 FROM pg_prepared_statements WHERE name LIKE 'S\\_%' AND statement ILIKE '%FROM humans%'"), "t");
      exec(c, "SET pgsoftdelete.skip = 'humans'");
      check(tag + "SHOW after SET", scalar(c, "SHOW pgsoftdelete.skip"), "humans");
      check(tag + "8 executions after SET skip", runPrepared(ps, 8), repeat("5", 8));
      exec(c, "RESET pgsoftdelete.skip");
      check(tag + "8 executions after RESET", runPrepared(ps, 8), repeat("3", 8));
      exec(c, "SET pgsoftdelete.skip = '*'");
      check(tag + "8 executions after SET skip = '*'", runPrepared(ps, 8), repeat("5", 8));
      exec(c, "RESET ALL");
      check(tag + "8 executions after RESET ALL", runPrepared(ps, 8), repeat("3", 8));
      // DISCARD ALL drops the server's statements (the proxy's variants too) and the setting;
      // pgjdbc sees it and prepares again.
      exec(c, "SET pgsoftdelete.skip = 'humans'");
      check(tag + "SET skip again", runPrepared(ps, 8), repeat("5", 8));
      exec(c, "DISCARD ALL");
      check(tag + "8 executions after DISCARD ALL", runPrepared(ps, 8), repeat("3", 8));
      exec(c, "SET pgsoftdelete.skip = 'humans'");
      check(tag + "8 executions after DISCARD ALL and SET skip", runPrepared(ps, 8), repeat("5", 8));
    }
  }

  public static void main(String[] args) throws Exception {
    try (Connection c = connect(env("PGSD_PORT"), ""); Connection direct = connect(env("PGSD_DIRECT_PORT"), "")) {
      System.out.println("pgjdbc " + c.getMetaData().getDriverVersion() + ", Java " + System.getProperty("java.version")
          + ", server " + c.getMetaData().getDatabaseProductVersion());

      // Filtered reads, and an outer join that keeps its meaning.
      check("humans through the proxy", scalar(c, "SELECT count(*) FROM humans"), "3");
      check("aliens through the proxy", scalar(c, "SELECT count(*) FROM aliens"), "3");
      check("humans directly", scalar(direct, "SELECT count(*) FROM humans"), "5");
      check("aliens directly", scalar(direct, "SELECT count(*) FROM aliens"), "5");
      check("live humans by name", column(c, "SELECT name FROM humans ORDER BY name"), "Ada,Edsger,Grace");
      check("LEFT JOIN keeps aliens whose human is deleted",
          column(c, "SELECT a.name, h.name FROM aliens a LEFT JOIN humans h ON h.id = a.human_id ORDER BY a.id"),
          "Zorg/Ada,Quux/null,Blip/null");

      // Server-side prepared statements: past the default threshold (5), and from the first run.
      preparedUnderSessionHints("default");
      preparedUnderSessionHints("1");

      // SET LOCAL: a block of work in a transaction; a SET undone by ROLLBACK.
      try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM humans WHERE id > ?")) {
        check("before SET LOCAL, prepared", runPrepared(ps, 6), repeat("3", 6));
        c.setAutoCommit(false);
        exec(c, "SET LOCAL pgsoftdelete.skip = '*'");
        check("SET LOCAL: humans in the transaction", scalar(c, "SELECT count(*) FROM humans"), "5");
        check("SET LOCAL: aliens in the transaction", scalar(c, "SELECT count(*) FROM aliens"), "5");
        check("SET LOCAL: prepared, in the transaction", runPrepared(ps, 3), repeat("5", 3));
        c.commit();
        c.setAutoCommit(true);
        check("SET LOCAL: humans after COMMIT", scalar(c, "SELECT count(*) FROM humans"), "3");
        check("SET LOCAL: prepared, after COMMIT", runPrepared(ps, 3), repeat("3", 3));
        c.setAutoCommit(false);
        exec(c, "SET pgsoftdelete.skip = 'humans'");
        check("SET in a transaction: prepared", runPrepared(ps, 3), repeat("5", 3));
        c.rollback();
        c.setAutoCommit(true);
        check("SET undone by ROLLBACK: prepared", runPrepared(ps, 3), repeat("3", 3));
        check("SET undone by ROLLBACK: SHOW", scalar(c, "SHOW pgsoftdelete.skip"), "");
      }

      // autosave=always: pgjdbc puts a savepoint before each statement of a transaction and rolls
      // back to it when one fails; a SET LOCAL made before the failure stays in force.
      try (Connection a = connect(env("PGSD_PORT"), "&autosave=always&prepareThreshold=1");
          PreparedStatement ps = a.prepareStatement("SELECT count(*) FROM humans WHERE id > ?")) {
        a.setAutoCommit(false);
        exec(a, "SET LOCAL pgsoftdelete.skip = 'humans'");
        check("autosave: prepared, after SET LOCAL", runPrepared(ps, 2), "5 5");
        String failed = "no exception";
        try {
          scalar(a, "SELECT 1/0");
        } catch (SQLException e) {
          failed = e.getSQLState();
        }
        check("autosave: a failing statement", failed, "22012");
        check("autosave: the transaction goes on, SET LOCAL kept", runPrepared(ps, 2), "5 5");
        a.commit();
        check("autosave: after COMMIT", runPrepared(ps, 2), "3 3");
      }

      // Cursor-based fetching (autocommit off + fetch size): row-limited Executes of one portal.
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.setFetchSize(1);
        List<String> names = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("SELECT name FROM humans ORDER BY id")) {
          while (rs.next()) names.add(rs.getString(1));
        }
        check("fetch size 1: filtered rows", String.join(",", names), "Ada,Grace,Edsger");
        List<String> ids = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("DELETE FROM humans WHERE id IN (1, 3, 4) RETURNING id, is_deleted")) {
          while (rs.next()) ids.add(rs.getString(1) + "/" + rs.getString(2));
        }
        check("fetch size 1: DELETE … RETURNING (row after the soft delete)", String.join(",", ids), "1/t,4/t");
      }
      c.commit();
      c.setAutoCommit(true);
      check("after DELETE … RETURNING: flagged directly", column(direct, "SELECT id FROM humans WHERE is_deleted ORDER BY id"), "1,3,4,5");
      restore(direct);

      // DELETE becomes a soft delete and still answers DELETE 1.
      try (Statement s = c.createStatement()) {
        check("executeUpdate(DELETE) count", s.executeUpdate("DELETE FROM humans WHERE id = 1"), 1);
        check("deleting it again", s.executeUpdate("DELETE FROM humans WHERE id = 1"), 0);
      }
      check("the deleted row still exists, is_deleted = true",
          scalar(direct, "SELECT is_deleted FROM humans WHERE id = 1"), "t");
      check("humans through the proxy after DELETE", scalar(c, "SELECT count(*) FROM humans"), "2");
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM aliens WHERE id = ?")) {
        ps.setInt(1, 1);
        check("prepared DELETE count", ps.executeUpdate(), 1);
      }
      check("prepared DELETE: row kept, flagged", scalar(direct, "SELECT count(*) FROM aliens WHERE id = 1 AND is_deleted"), "1");
      restore(direct);

      // Batches: one pipeline of DELETEs, the per-statement counts come back.
      try (Statement s = c.createStatement()) {
        s.addBatch("DELETE FROM humans WHERE id = 2");
        s.addBatch("DELETE FROM humans WHERE id = 3");        // already deleted: 0
        s.addBatch("DELETE FROM humans WHERE id IN (4, 5)");  // 5 is deleted: 1
        check("Statement batch of DELETEs", Arrays.toString(s.executeBatch()), "[1, 0, 1]");
      }
      check("after the batch: flagged directly", column(direct, "SELECT id FROM humans WHERE is_deleted ORDER BY id"), "2,3,4,5");
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM aliens WHERE id = ?")) {
        for (int id : new int[] {3, 2, 4, 1}) {
          ps.setInt(1, id);
          ps.addBatch();
        }
        check("PreparedStatement batch of DELETEs", Arrays.toString(ps.executeBatch()), "[1, 0, 1, 1]");
      }
      check("after the prepared batch: no live aliens", scalar(c, "SELECT count(*) FROM aliens"), "0");
      check("after the prepared batch: all aliens still there", scalar(direct, "SELECT count(*) FROM aliens"), "5");
      restore(direct);

      // A batch with a refused statement in the middle: one pipeline, one implicit transaction,
      // nothing of it is kept.
      String batchState = "no exception";
      try (Statement s = c.createStatement()) {
        s.addBatch("DELETE FROM humans WHERE id = 1");
        s.addBatch("TRUNCATE humans");
        s.addBatch("DELETE FROM humans WHERE id = 2");
        s.executeBatch();
      } catch (BatchUpdateException e) {
        batchState = e.getSQLState() + " " + Arrays.toString(e.getUpdateCounts());
      }
      check("batch with TRUNCATE: BatchUpdateException", batchState.replaceAll(" \\[.*", ""), "0A000");
      check("batch with TRUNCATE: nothing deleted", column(direct, "SELECT id FROM humans WHERE is_deleted ORDER BY id"), "3,5");
      check("batch with TRUNCATE: the connection answers", scalar(c, "SELECT count(*) FROM humans"), "3");

      // The simple query protocol: one string, several statements, each with its own count.
      try (Connection simple = connect(env("PGSD_PORT"), "&preferQueryMode=simple"); Statement s = simple.createStatement()) {
        check("simple protocol, multi-statement",
            results(s, "DELETE FROM aliens WHERE id = 1; SELECT count(*) FROM aliens; DELETE FROM aliens WHERE id IN (2, 3)"),
            "count 1, rows 2, count 1");
        check("simple protocol: SET then a count in one string",
            results(s, "SET pgsoftdelete.skip = 'aliens'; SELECT count(*) FROM aliens"), "count 0, rows 5");
      }
      restore(direct);

      // TRUNCATE of a rule table is refused with 0A000; the connection goes on (autocommit).
      String state = "no exception";
      try (Statement s = c.createStatement()) {
        s.execute("TRUNCATE humans");
      } catch (SQLException e) {
        state = e.getSQLState();
      }
      check("TRUNCATE humans: SQLState", state, "0A000");
      check("after TRUNCATE: the connection answers", scalar(c, "SELECT count(*) FROM humans"), "3");
      check("after TRUNCATE: nothing truncated", scalar(direct, "SELECT count(*) FROM humans"), "5");
      // In a transaction the refusal leaves it failed, as a failing statement would.
      c.setAutoCommit(false);
      state = "no exception";
      try (Statement s = c.createStatement()) {
        s.execute("TRUNCATE aliens");
      } catch (SQLException e) {
        state = e.getSQLState();
      }
      check("TRUNCATE aliens in a transaction: SQLState", state, "0A000");
      state = "no exception";
      try {
        scalar(c, "SELECT 1");
      } catch (SQLException e) {
        state = e.getSQLState();
      }
      check("the transaction is failed", state, "25P02");
      c.rollback();
      c.setAutoCommit(true);
      check("after ROLLBACK: the connection answers", scalar(c, "SELECT count(*) FROM aliens"), "3");

      // Hint comments: Hibernate's hibernate.use_sql_comments + setComment("pgsoftdelete: skip=*")
      // put `/* pgsoftdelete: skip=* */` before the statement.
      try (PreparedStatement ps = c.prepareStatement("/* pgsoftdelete: skip=* */ select count(*) from humans where id > ?")) {
        check("Hibernate-style leading comment, 8 executions", runPrepared(ps, 8), repeat("5", 8));
      }
      check("Hibernate-style comment, plain statement",
          scalar(c, "/* pgsoftdelete: skip=* */ select h.name from humans h where h.id = 3"), "Alan");
      check("inner join, filtered", scalar(c, "SELECT count(*) FROM humans JOIN aliens ON aliens.human_id = humans.id"), "1");
      check("sqlcommenter form",
          scalar(c, "SELECT count(*) FROM humans JOIN aliens ON aliens.human_id = humans.id /*pgsoftdelete.skip='humans%2Caliens'*/"), "4");
      check("-- line comment", scalar(c, "SELECT count(*) FROM aliens -- pgsoftdelete: skip=aliens"), "5");
      check("the hint does not outlive its statement", scalar(c, "SELECT count(*) FROM humans"), "3");
      String fromProxy = "no exception";
      try {
        scalar(c, "SELECT count(*) FROM humans /* pgsoftdelete: skipp=humans */");
      } catch (SQLException e) {
        fromProxy = e.getSQLState();
      }
      check("a malformed hint comment: SQLState", fromProxy, "22023");
      check("after the malformed hint: the connection answers", scalar(c, "SELECT count(*) FROM humans"), "3");
    }

    if (failures.isEmpty()) {
      System.out.println("PASS " + passed + " checks");
    } else {
      System.out.println("FAILED " + failures.size() + " of " + (passed + failures.size()) + " checks");
      System.exit(1);
    }
  }
}
