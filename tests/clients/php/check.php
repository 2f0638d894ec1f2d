<?php
// PDO pgsql and Laravel's database layer (Illuminate\Database\Capsule\Manager, standalone)
// through pgsoftdelete: server-side prepared statements (ATTR_EMULATE_PREPARES false) under SET and
// RESET, rowCount() of a DELETE, a refused TRUNCATE (PDOException 0A000) and a usable connection,
// then DB::statement / DB::select with a hint comment / DB::transaction with SET LOCAL / the query
// builder's delete() and truncate() / Eloquent delete and destroy.
//
// Run by run.sh with PGSD_HOST, PGSD_PORT (the proxy), PGSD_DIRECT_PORT (the server itself),
// PGSD_USER, PGSD_DB.
declare(strict_types=1);

$passed = 0;
$failures = [];

function check(string $what, $got, $want): void {
    global $passed, $failures;
    $g = is_bool($got) ? ($got ? 'true' : 'false') : (string)$got;
    $w = is_bool($want) ? ($want ? 'true' : 'false') : (string)$want;
    if ($g === $w) {
        $passed++;
        return;
    }
    $failures[] = $what;
    echo "FAIL $what: got $g, want $w\n";
}

function setting(string $name): string {
    $v = getenv($name);
    if ($v === false || $v === '') {
        fwrite(STDERR, "missing environment variable $name\n");
        exit(2);
    }
    return $v;
}

function pdo(string $port, array $options = []): PDO {
    $dsn = sprintf('pgsql:host=%s;port=%s;dbname=%s;connect_timeout=10', setting('PGSD_HOST'), $port, setting('PGSD_DB'));
    return new PDO($dsn, setting('PGSD_USER'), null, $options + [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_EMULATE_PREPARES => false, // server-side prepared statements
    ]);
}

function scalar(PDO $c, string $sql, array $params = []): string {
    $st = $c->prepare($sql);
    $st->execute($params);
    $v = $st->fetchColumn();
    return is_bool($v) ? ($v ? 't' : 'f') : (string)$v;
}

/** The SQLSTATE of what $f threw, or "no error". */
function sqlstate(callable $f): string {
    try {
        $f();
        return 'no error';
    } catch (PDOException $e) {
        return (string)$e->getCode();
    }
}

/** The same prepared statement executed $n times; the counts it returned. */
function executions(PDOStatement $st, int $n): string {
    $seen = [];
    for ($i = 0; $i < $n; $i++) {
        $st->execute([0]);
        $seen[] = $st->fetchColumn();
        $st->closeCursor();
    }
    return implode(' ', $seen);
}

$direct = pdo(setting('PGSD_DIRECT_PORT'));
$restore = function () use ($direct): void { // the seed's deleted flags again (rows are only soft-deleted here)
    $direct->exec('UPDATE humans SET is_deleted = id IN (3, 5)');
    $direct->exec('UPDATE aliens SET is_deleted = id IN (2, 5)');
};

// ------------------------------------------------------------------------------------------- PDO
$c = pdo(setting('PGSD_PORT'));
printf("PHP %s, pdo_pgsql (libpq %s), server %s\n", PHP_VERSION, $c->getAttribute(PDO::ATTR_CLIENT_VERSION),
       $c->getAttribute(PDO::ATTR_SERVER_VERSION));

check('humans through the proxy', scalar($c, 'SELECT count(*) FROM humans'), 3);
check('aliens through the proxy', scalar($c, 'SELECT count(*) FROM aliens'), 3);
check('humans directly', scalar($direct, 'SELECT count(*) FROM humans'), 5);
check('aliens directly', scalar($direct, 'SELECT count(*) FROM aliens'), 5);
$rows = $c->query('SELECT a.name, h.name AS human FROM aliens a LEFT JOIN humans h ON h.id = a.human_id ORDER BY a.id')
          ->fetchAll(PDO::FETCH_NUM);
check('LEFT JOIN keeps aliens whose human is deleted', implode(',', array_map(fn ($r) => implode('/', $r), $rows)),
      'Zorg/Ada,Quux/,Blip/');

// Server-side prepared statements (and, for comparison, the other two ways PDO can send them).
$modes = [
    'native prepares' => [],
    'PGSQL_ATTR_DISABLE_PREPARES' => [PDO::PGSQL_ATTR_DISABLE_PREPARES => true],
    'emulated prepares' => [PDO::ATTR_EMULATE_PREPARES => true],
];
foreach ($modes as $mode => $options) {
    $m = pdo(setting('PGSD_PORT'), $options);
    $st = $m->prepare('SELECT count(*) FROM humans WHERE id > ?');
    check("$mode: 5 executions", executions($st, 5), '3 3 3 3 3');
    if ($mode === 'native prepares') {
        check("$mode: a named statement on the server",
              scalar($m, "SELECT count(*) > 0 FROM pg_prepared_statements WHERE name LIKE 'pdo_stmt_%' AND statement ILIKE '%humans%'"), 't');
    }
    check("$mode: SET", $m->exec("SET pgsoftdelete.skip = 'humans'"), 0);
    check("$mode: 5 executions after SET skip", executions($st, 5), '5 5 5 5 5');
    check("$mode: aliens still filtered", scalar($m, 'SELECT count(*) FROM aliens WHERE id > ?', [0]), 3);
    $m->exec('RESET pgsoftdelete.skip');
    check("$mode: 5 executions after RESET", executions($st, 5), '3 3 3 3 3');
    $m = null;
}

// A block of work: SET LOCAL in a transaction.
$c->beginTransaction();
$c->exec("SET LOCAL pgsoftdelete.skip = '*'");
check('SET LOCAL: humans, aliens in the transaction',
      scalar($c, 'SELECT count(*) FROM humans') . ',' . scalar($c, 'SELECT count(*) FROM aliens WHERE id > ?', [0]), '5,5');
$c->commit();
check('SET LOCAL: after COMMIT', scalar($c, 'SELECT count(*) FROM humans'), 3);

// DELETE: soft, with a real DELETE's count.
$st = $c->prepare('DELETE FROM humans WHERE id = ?');
$st->execute([1]);
check('prepared DELETE rowCount()', $st->rowCount(), 1);
$st->execute([1]);
check('DELETE of a deleted row rowCount()', $st->rowCount(), 0);
check('PDO::exec(DELETE) count', $c->exec('DELETE FROM aliens WHERE id IN (1, 2)'), 1);
check('rows kept, flagged', scalar($direct, 'SELECT count(*) FROM humans h, aliens a WHERE h.id = 1 AND a.id = 1 AND h.is_deleted AND a.is_deleted'), 1);
check('humans through the proxy after DELETE', scalar($c, 'SELECT count(*) FROM humans'), 2);
$restore();

// TRUNCATE: PDOException with SQLSTATE 0A000, and the connection goes on.
$error = null;
try {
    $c->exec('TRUNCATE humans');
} catch (PDOException $e) {
    $error = $e;
}
check('TRUNCATE humans: PDOException', $error === null ? 'no error' : get_class($error), 'PDOException');
check('TRUNCATE humans: getCode()', $error ? $error->getCode() : '', '0A000');
check('TRUNCATE humans: errorInfo[0]', $error ? $error->errorInfo[0] : '', '0A000');
check('after TRUNCATE: the connection answers', scalar($c, 'SELECT count(*) FROM humans'), 3);
check('after TRUNCATE: a prepared statement answers', scalar($c, 'SELECT count(*) FROM humans WHERE id > ?', [0]), 3);
check('after TRUNCATE: nothing truncated', scalar($direct, 'SELECT count(*) FROM humans'), 5);
$c->beginTransaction();
check('TRUNCATE in a transaction', sqlstate(fn () => $c->exec('TRUNCATE aliens')), '0A000');
check('the transaction is failed', sqlstate(fn () => $c->query('SELECT 1')), '25P02');
$c->rollBack();
check('after rollBack: the connection answers', scalar($c, 'SELECT count(*) FROM aliens'), 3);

// COPY … TO STDOUT (PDO::pgsqlCopyToArray) is filtered too.
$copied = $c->pgsqlCopyToArray('humans', "\t", "\\N", 'id,name');
sort($copied);
check('pgsqlCopyToArray', str_replace("\t", ':', implode(',', array_map('trim', $copied))), '1:Ada,2:Grace,4:Edsger');

// Hint comments with PDO.
check('leading hint comment, prepared', scalar($c, '/* pgsoftdelete: skip=* */ SELECT count(*) FROM humans WHERE id > ?', [0]), 5);
check('sqlcommenter form', scalar($c, "SELECT count(*) FROM aliens /*pgsoftdelete.skip='humans%2Caliens'*/"), 5);
check('the hint does not outlive its statement', scalar($c, 'SELECT count(*) FROM aliens'), 3);
$c = null;

// ----------------------------------------------------------------- Laravel (Capsule, standalone)
require_once 'Illuminate/Database/autoload.php';
require_once 'Illuminate/Events/autoload.php';

use Illuminate\Database\Capsule\Manager as Capsule;
use Illuminate\Database\Eloquent\Model;
use Illuminate\Database\QueryException;

$capsule = new Capsule();
$capsule->addConnection([
    'driver' => 'pgsql', 'host' => setting('PGSD_HOST'), 'port' => setting('PGSD_PORT'), 'database' => setting('PGSD_DB'),
    'username' => setting('PGSD_USER'), 'password' => '', 'charset' => 'utf8', 'prefix' => '', 'schema' => 'public',
    'sslmode' => 'disable',
]);
$capsule->setAsGlobal();
$capsule->bootEloquent();
class_alias(Capsule::class, 'DB'); // DB::… as in an application (Capsule forwards static calls)

class Human extends Model {
    protected $table = 'humans';
    public $timestamps = false;
}

echo 'Laravel database layer ', trim((string)shell_exec("dpkg-query -W -f='\${Version}' php-laravel-framework")), "\n";
check('Laravel: PDO uses server-side prepares',
      DB::connection()->getPdo()->getAttribute(PDO::ATTR_EMULATE_PREPARES) ? 'emulated' : 'native', 'native');
check('Laravel: DB::table(humans)->count()', DB::table('humans')->count(), 3);
check('Laravel: Human::count()', Human::count(), 3);
check('Laravel: live names', DB::table('humans')->orderBy('name')->pluck('name')->implode(','), 'Ada,Edsger,Grace');

// The session: DB::statement("SET …"), then RESET.
check('Laravel: DB::statement(SET)', DB::statement("SET pgsoftdelete.skip = '*'"), true);
check('Laravel: counts after SET skip = *',
      DB::table('humans')->count() . ',' . DB::table('aliens')->where('id', '>', 0)->count() . ',' . Human::find(3)->name, '5,5,Alan');
DB::statement('RESET pgsoftdelete.skip');
check('Laravel: counts after RESET', DB::table('humans')->count() . ',' . DB::table('aliens')->where('id', '>', 0)->count(), '3,3');
check('Laravel: a deleted row is not found after RESET', var_export(Human::find(3), true), 'NULL');

// One query: a raw hint comment.
check('Laravel: DB::select with a hint comment',
      DB::select('/* pgsoftdelete: skip=* */ select count(*) as n from humans')[0]->n, 5);
check('Laravel: DB::select with a hint comment and a binding',
      DB::select('/* pgsoftdelete: skip=humans */ select name from humans where id = ?', [5])[0]->name, 'Barbara');
check('Laravel: the hint does not outlive its statement', DB::select('select count(*) as n from humans')[0]->n, 3);

// A block of work: DB::transaction with SET LOCAL.
$inside = DB::transaction(function () {
    DB::statement("SET LOCAL pgsoftdelete.skip = 'humans'");
    return DB::table('humans')->count() . ',' . DB::table('aliens')->count();
});
check('Laravel: SET LOCAL in DB::transaction', $inside, '5,3');
check('Laravel: after the transaction', DB::table('humans')->count(), 3);

// delete() through the query builder and Eloquent.
check('Laravel: query builder delete()', DB::table('humans')->where('id', 1)->delete(), 1);
check('Laravel: delete() again', DB::table('humans')->where('id', 1)->delete(), 0);
check('Laravel: the row is kept, flagged', scalar($direct, 'SELECT is_deleted FROM humans WHERE id = 1'), 't');
check('Laravel: Eloquent delete()', Human::find(2)->delete(), true);
check('Laravel: Human::destroy([3, 4]) (3 is deleted)', Human::destroy([3, 4]), 1);
check('Laravel: Human::count() after deletes', Human::count(), 0);
check('Laravel: all humans still there, flagged', scalar($direct, 'SELECT count(*) FROM humans WHERE is_deleted'), 5);
$restore();

// Raw DELETE and UPDATE with their counts; lockForUpdate() on a filtered table.
check('Laravel: DB::affectingStatement(DELETE)', DB::affectingStatement('DELETE FROM humans WHERE id IN (1, 3)'), 1);
check('Laravel: DB::delete()', DB::delete('DELETE FROM aliens WHERE id = ?', [1]), 1);
check('Laravel: query builder update() of live and deleted rows',
      DB::table('humans')->whereIn('id', [2, 3])->update(['name' => DB::raw('name')]), 1);
$restore();
$locked = DB::transaction(fn () => DB::table('humans')->where('id', '>', 0)->orderBy('id')->lockForUpdate()->pluck('id')->implode(','));
check('Laravel: lockForUpdate()', $locked, '1,2,4');

// truncate() refused: QueryException around the PDOException, 0A000; the connection goes on.
$error = null;
try {
    DB::table('humans')->truncate();
} catch (QueryException $e) {
    $error = $e;
}
check('Laravel: truncate() throws QueryException', $error === null ? 'no error' : get_class($error), QueryException::class);
check('Laravel: getCode()', $error ? $error->getCode() : '', '0A000');
check('Laravel: caused by PDOException', $error && $error->getPrevious() ? get_class($error->getPrevious()) : '', 'PDOException');
check('Laravel: the connection still answers', DB::table('humans')->count() . ',' . Human::where('id', '>', 0)->count(), '3,3');
check('Laravel: nothing truncated', scalar($direct, 'SELECT count(*) FROM humans'), 5);

if ($failures) {
    printf("FAILED %d of %d checks\n", count($failures), $passed + count($failures));
    exit(1);
}
printf("PASS %d checks\n", $passed);
