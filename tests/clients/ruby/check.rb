# ruby-pg and ActiveRecord through pgsoftdelete: filtered reads through exec, exec_params and
# prepare + exec_prepared under session hints, DELETE counts (cmd_tuples, a multi-statement query,
# a pipeline), ActiveRecord's count / annotate / transaction with SET LOCAL / delete_all / destroy,
# its prepared statements under SET and RESET, and a refused TRUNCATE with a usable connection.
#
# Run by run.sh with PGSD_HOST, PGSD_PORT (the proxy), PGSD_DIRECT_PORT (the server itself),
# PGSD_USER, PGSD_DB.
require "pg"
require "active_record"

$passed = 0
$failures = []

def check(what, got, want)
  if got.to_s == want.to_s
    $passed += 1
  else
    $failures << what
    puts "FAIL #{what}: got #{got.inspect}, want #{want.inspect}"
  end
end

def env(name)
  ENV.fetch(name) { abort "missing environment variable #{name}" }
end

def pg_connect(port)
  PG.connect(host: env("PGSD_HOST"), port: port, user: env("PGSD_USER"), dbname: env("PGSD_DB"),
             connect_timeout: 10)
end

# The SQLSTATE of what the block raised, or "no error".
def sqlstate
  yield
  "no error"
rescue PG::Error => e
  e.result&.error_field(PG::PG_DIAG_SQLSTATE) || e.message
end

direct = pg_connect(env("PGSD_DIRECT_PORT"))
direct.exec("SET client_min_messages = warning")
restore = lambda do # the seed's deleted flags again (rows are only soft-deleted here)
  direct.exec("UPDATE humans SET is_deleted = id IN (3, 5); UPDATE aliens SET is_deleted = id IN (2, 5)")
end
direct_value = ->(sql) { direct.exec(sql).getvalue(0, 0) }

puts "ruby #{RUBY_VERSION}, ruby-pg #{PG::VERSION} (libpq #{PG.library_version}), " \
     "activerecord #{ActiveRecord.version}"

# ---------------------------------------------------------------------------------------- ruby-pg
c = pg_connect(env("PGSD_PORT"))
puts "server #{c.parameter_status("server_version")}"

check "humans directly", direct_value.("SELECT count(*) FROM humans"), 5
check "aliens directly", direct_value.("SELECT count(*) FROM aliens"), 5
check "LEFT JOIN keeps aliens whose human is deleted",
      c.exec("SELECT a.name, h.name FROM aliens a LEFT JOIN humans h ON h.id = a.human_id ORDER BY a.id")
       .values.map { |r| r.join("/") }.join(","),
      "Zorg/Ada,Quux/,Blip/"

c.prepare("live_humans", "SELECT count(*) FROM humans WHERE id > $1")
counts = lambda do # the same count, by exec, exec_params, exec_prepared, each twice
  2.times.flat_map do
    [c.exec("SELECT count(*) FROM humans").getvalue(0, 0),
     c.exec_params("SELECT count(*) FROM humans WHERE id > $1", [0]).getvalue(0, 0),
     c.exec_prepared("live_humans", [0]).getvalue(0, 0)]
  end.join(" ")
end
check "exec/exec_params/exec_prepared", counts.(), "3 3 3 3 3 3"
check "SET skip", c.exec("SET pgsoftdelete.skip = 'humans'").cmd_status, "SET"
check "SHOW", c.exec("SHOW pgsoftdelete.skip").getvalue(0, 0), "humans"
check "exec/exec_params/exec_prepared after SET skip", counts.(), "5 5 5 5 5 5"
check "aliens stay filtered under skip=humans", c.exec("SELECT count(*) FROM aliens").getvalue(0, 0), 3
check "RESET", c.exec("RESET pgsoftdelete.skip").cmd_status, "RESET"
check "exec/exec_params/exec_prepared after RESET", counts.(), "3 3 3 3 3 3"

# A SET LOCAL undone by ROLLBACK TO SAVEPOINT; a failed transaction stays failed for a statement
# whose variant under the new hints is not prepared yet.
c.exec("BEGIN")
c.exec("SAVEPOINT a")
c.exec("SET LOCAL pgsoftdelete.skip = 'humans'")
check "SET LOCAL after a SAVEPOINT", c.exec_prepared("live_humans", [0]).getvalue(0, 0), 5
c.exec("ROLLBACK TO SAVEPOINT a")
check "after ROLLBACK TO SAVEPOINT", c.exec_prepared("live_humans", [0]).getvalue(0, 0), 3
c.exec("SET LOCAL pgsoftdelete.skip = '*'")
check "a failing statement", sqlstate { c.exec("SELECT 1/0") }, "22012"
check "a prepared statement in the failed transaction", sqlstate { c.exec_prepared("live_humans", [0]) }, "25P02"
c.exec("ROLLBACK")
check "after ROLLBACK", c.exec_prepared("live_humans", [0]).getvalue(0, 0), 3

# A statement name DEALLOCATEd and prepared again with another text under a hint: the new text.
c.exec("SET pgsoftdelete.skip = 'aliens'")
c.prepare("again", "SELECT count(*) FROM aliens WHERE id > $1")
check "prepared under skip=aliens", c.exec_prepared("again", [0]).getvalue(0, 0), 5
c.exec("DEALLOCATE again")
c.prepare("again", "SELECT count(*) FROM humans WHERE id > $1")
check "the same name, another text, under skip=aliens", c.exec_prepared("again", [0]).getvalue(0, 0), 3
c.exec("RESET pgsoftdelete.skip")
c.exec("DEALLOCATE again")

# DELETE: soft, with the count of a real one.
r = c.exec("DELETE FROM humans WHERE id = 1")
check "exec DELETE cmd_tuples", r.cmd_tuples, 1
check "exec DELETE cmd_status", r.cmd_status, "DELETE 1"
check "DELETE of a deleted row", c.exec("DELETE FROM humans WHERE id = 1").cmd_tuples, 0
check "exec_params DELETE cmd_tuples", c.exec_params("DELETE FROM humans WHERE id = $1", [2]).cmd_tuples, 1
c.prepare("delete_alien", "DELETE FROM aliens WHERE id = $1")
check "exec_prepared DELETE cmd_tuples", c.exec_prepared("delete_alien", [1]).cmd_tuples, 1
check "the rows are kept, flagged",
      direct_value.("SELECT string_agg(id::text || ':' || is_deleted::text, ',' ORDER BY id) FROM humans"),
      "1:true,2:true,3:true,4:false,5:true"
check "alien 1 flagged", direct_value.("SELECT is_deleted FROM aliens WHERE id = 1"), "t"
restore.()

# SQL-level PREPARE / EXECUTE of a DELETE: the count of a real one.
c.exec("PREPARE del(int) AS DELETE FROM humans WHERE id = $1")
r = c.exec("EXECUTE del(1)")
check "EXECUTE of a prepared DELETE", "#{r.cmd_status}/#{r.cmd_tuples}", "DELETE 1/1"
check "EXECUTE of it again", c.exec("EXECUTE del(1)").cmd_tuples, 0
check "EXECUTE DELETE kept the row, flagged", direct_value.("SELECT is_deleted FROM humans WHERE id = 1"), "t"
restore.()
# README, Limitations: one PREPAREd under hints is refused (0A000) when executed under others.
c.exec("SET pgsoftdelete.skip = 'humans'")
c.exec("PREPARE everyone AS SELECT count(*) FROM humans")
check "EXECUTE under the hints it was prepared under", c.exec("EXECUTE everyone").getvalue(0, 0), 5
c.exec("RESET pgsoftdelete.skip")
check "EXECUTE under other hints", sqlstate { c.exec("EXECUTE everyone") }, "0A000"
c.exec("DEALLOCATE everyone")

# COPY … TO STDOUT is filtered too.
lines = []
c.copy_data("COPY humans (id, name) TO STDOUT") do
  while (line = c.get_copy_data)
    lines << line.chomp
  end
end
check "COPY humans TO STDOUT", lines.sort.join(","), "1\tAda,2\tGrace,4\tEdsger"

# A multi-statement query: every statement's own count.
c.send_query("DELETE FROM humans WHERE id = 1; DELETE FROM humans WHERE id IN (3, 4); SELECT count(*) FROM humans")
results = []
while (res = c.get_result)
  results << (res.ntuples.positive? ? "rows #{res.getvalue(0, 0)}" : "#{res.cmd_status}/#{res.cmd_tuples}")
  res.clear
end
check "multi-statement query", results.join(", "), "DELETE 1/1, DELETE 1/1, rows 1"
restore.()

# A pipeline (libpq pipeline mode): DELETE, SELECT, one Sync.
c.enter_pipeline_mode
c.send_query_params("DELETE FROM aliens WHERE id = $1", [3])
c.send_query_params("SELECT count(*) FROM aliens", [])
c.pipeline_sync
seen = []
loop do
  res = c.get_result
  next if res.nil? # end of one statement's results
  break if res.result_status == PG::PGRES_PIPELINE_SYNC
  seen << (res.ntuples.positive? ? "rows #{res.getvalue(0, 0)}" : "#{res.cmd_status}/#{res.cmd_tuples}")
end
c.exit_pipeline_mode
check "pipeline", seen.join(", "), "DELETE 1/1, rows 2"
restore.()

# TRUNCATE is refused: PG::FeatureNotSupported (0A000), and the connection goes on.
check "TRUNCATE humans: PG::FeatureNotSupported",
      (begin; c.exec("TRUNCATE humans"); "no error"; rescue PG::FeatureNotSupported => e; e.class; end),
      PG::FeatureNotSupported
check "after TRUNCATE: the connection answers", c.exec("SELECT count(*) FROM humans").getvalue(0, 0), 3
check "after TRUNCATE: the prepared statement answers", c.exec_prepared("live_humans", [0]).getvalue(0, 0), 3
check "after TRUNCATE: nothing truncated", direct_value.("SELECT count(*) FROM humans"), 5
c.exec("BEGIN")
check "TRUNCATE in a transaction", sqlstate { c.exec("TRUNCATE aliens") }, "0A000"
check "the transaction is failed", sqlstate { c.exec("SELECT 1") }, "25P02"
c.exec("ROLLBACK")
check "after ROLLBACK: the connection answers", c.exec("SELECT count(*) FROM aliens").getvalue(0, 0), 3
c.close

# ----------------------------------------------------------------------------------- ActiveRecord
ActiveRecord::Base.establish_connection(
  adapter: "postgresql", host: env("PGSD_HOST"), port: env("PGSD_PORT").to_i, username: env("PGSD_USER"),
  database: env("PGSD_DB"), connect_timeout: 10 # prepared_statements: true is the default
)

class Human < ActiveRecord::Base
  self.table_name = "humans" # not "humen"
  has_many :aliens, dependent: :destroy
end

class Alien < ActiveRecord::Base
  belongs_to :human, optional: true
end

check "AR: prepared statements on", Human.connection.prepared_statements, true
check "AR: Human.count", Human.count, 3
check "AR: Alien.count", Alien.count, 3
check "AR: live names", Human.order(:name).pluck(:name).join(","), "Ada,Edsger,Grace"
check "AR: a deleted row is not found", Human.find_by(id: 3).inspect, "nil"
check "AR: includes", Alien.includes(:human).order(:id).map { |a| "#{a.name}/#{a.human&.name}" }.join(","),
      "Zorg/Ada,Quux/,Blip/"

# One query: annotate puts /* pgsoftdelete: skip=* */ at the end of the statement.
check "AR: annotate SQL", Human.annotate("pgsoftdelete: skip=*").to_sql,
      %(SELECT "humans".* FROM "humans" /* pgsoftdelete: skip=* */)
check "AR: Human.annotate(skip=*).count", Human.annotate("pgsoftdelete: skip=*").count, 5
check "AR: annotate, deleted row found",
      Human.annotate("pgsoftdelete: skip=humans").find_by(id: 3)&.name, "Alan"
check "AR: Human.count after annotate", Human.count, 3

# A block of work: SET LOCAL in a transaction.
in_block = Human.transaction do
  Human.connection.execute("SET LOCAL pgsoftdelete.skip = '*'")
  [Human.count, Alien.count, Human.find(5).name, Human.where(is_deleted: true).count]
end
check "AR: SET LOCAL in Human.transaction", in_block.join(","), "5,5,Barbara,2"
check "AR: after the transaction", [Human.count, Alien.count].join(","), "3,3"

# ActiveRecord's prepared statements (binds) before and after SET / RESET.
prepared = -> { 3.times.map { Human.where.not(name: "nobody").count }.join(" ") }
check "AR: prepared count", prepared.(), "3 3 3"
check "AR: its statement is a named one on the server",
      Human.connection.select_value("SELECT count(*) > 0 FROM pg_prepared_statements WHERE name ~ '^a[0-9]+$'"), true
Human.connection.execute("SET pgsoftdelete.skip = 'humans'")
check "AR: prepared count after SET skip", prepared.(), "5 5 5"
check "AR: find of a deleted row after SET skip", Human.find(3).name, "Alan"
Human.connection.execute("RESET pgsoftdelete.skip")
check "AR: prepared count after RESET", prepared.(), "3 3 3"
check "AR: find of a deleted row after RESET",
      (begin; Human.find(3).name; rescue ActiveRecord::RecordNotFound; "not found"; end), "not found"

# delete_all and destroy.
check "AR: Human.where(id: 1).delete_all", Human.where(id: 1).delete_all, 1
check "AR: delete_all again", Human.where(id: 1).delete_all, 0
check "AR: delete_all kept the row, flagged", direct_value.("SELECT is_deleted FROM humans WHERE id = 1"), "t"
restore.()
h = Human.find(1)
h.destroy
check "AR: destroy", h.destroyed?, true
check "AR: destroyed human and its alien (dependent: :destroy) are gone",
      [Human.exists?(1), Alien.exists?(1)].join(","), "false,false"
check "AR: both rows kept, flagged",
      direct_value.("SELECT h.is_deleted AND a.is_deleted FROM humans h, aliens a WHERE h.id = 1 AND a.id = 1"), "t"
check "AR: Human.count after destroy", Human.count, 2
restore.()

# UPDATE touches live rows only; SELECT … FOR UPDATE (Model.lock) on a filtered table.
check "AR: update_all of a live and a deleted row", Human.where(id: [1, 3]).update_all("name = name"), 1
locked = Human.transaction { [Human.lock.find(1).name, Human.lock.find_by(id: 3).inspect].join(",") }
check "AR: Human.lock.find", locked, "Ada,nil"

# only_deleted: read the deleted rows, undelete one.
check "AR: annotate(only_deleted)", Human.annotate("pgsoftdelete: only_deleted=humans").order(:id).pluck(:name).join(","),
      "Alan,Barbara"
check "AR: undelete under only_deleted",
      Human.connection.exec_update("UPDATE humans SET is_deleted = false WHERE id = 3 /* pgsoftdelete: only_deleted=humans */"), 1
check "AR: Human.count after the undelete", Human.count, 4
restore.()

# hard_delete: a real DELETE (the row is gone from the server), then put it back.
check "AR: hard_delete", Alien.connection.exec_delete("DELETE FROM aliens WHERE id = 4 -- pgsoftdelete: hard_delete=aliens"), 1
check "AR: the row is gone directly", direct_value.("SELECT count(*) FROM aliens"), 4
direct.exec("INSERT INTO aliens VALUES (4, 'Blip', NULL, false)")

# TRUNCATE refused: ActiveRecord::StatementInvalid caused by PG::FeatureNotSupported.
error = begin
  Human.connection.truncate(Human.table_name)
  nil
rescue ActiveRecord::StatementInvalid => e
  e
end
check "AR: truncate raises ActiveRecord::StatementInvalid", error.class, ActiveRecord::StatementInvalid
check "AR: its cause is PG::FeatureNotSupported", error&.cause.class, PG::FeatureNotSupported
check "AR: SQLSTATE", error&.cause&.result&.error_field(PG::PG_DIAG_SQLSTATE), "0A000"
check "AR: the connection still works", [Human.count, prepared.()].join(","), "3,3 3 3"
check "AR: nothing truncated", direct_value.("SELECT count(*) FROM humans"), 5

if $failures.empty?
  puts "PASS #{$passed} checks"
else
  puts "FAILED #{$failures.size} of #{$passed + $failures.size} checks"
  exit 1
end
