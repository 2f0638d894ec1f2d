"""Django 3.2 (psycopg2) through the proxy: reads and joins, QuerySet.delete() and Model.delete()
counts, the same query across hint changes, the recipes of RECIPES.md, and a refusal."""
import django
from django.conf import settings

from common import DB, HOST, PORT, USER, check, check_soft_deleted, direct, equal, reset_seed

settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "HOST": HOST, "PORT": PORT,
                           "NAME": DB, "USER": USER}},
    INSTALLED_APPS=["pgsd_py_app"],
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    USE_TZ=True,
)
django.setup()

from django.db import NotSupportedError, connection, transaction  # noqa: E402 - after setup()
from django.db.models import Count  # noqa: E402

from pgsd_py_app.models import Alien, Human  # noqa: E402


# --- recipe: a hint for every query of a block ---
def pgsoftdelete_skip(tables):
    """An execute_wrapper that appends a sqlcommenter hint, e.g. pgsoftdelete_skip("humans,aliens")."""
    comment = " /*pgsoftdelete.skip='%s'*/" % tables.replace(",", "%2C")

    def wrapper(execute, sql, params, many, context):
        # With parameters (the ORM always passes some, maybe empty) psycopg2 reads % as a
        # placeholder: a literal % is written %%.
        return execute(sql + (comment.replace("%", "%%") if params is not None else comment), params, many, context)

    return wrapper
# --- end recipe ---


def reads():
    equal(Human.objects.count(), 3, "Django: humans count")
    equal(Alien.objects.count(), 3, "Django: aliens count")
    equal(list(Human.objects.order_by("id").values_list("name", flat=True)), ["Ada", "Grace", "Edsger"],
          "Django: live humans")
    equal(Human.objects.filter(id__gte=2).count(), 2, "Django: a filter")
    equal(list(Alien.objects.filter(human__name__gt="").values_list("name", "human__name")), [("Zorg", "Ada")],
          "Django: INNER JOIN through the foreign key")
    equal(list(Alien.objects.order_by("id").values_list("name", "human__name")),
          [("Zorg", "Ada"), ("Quux", None), ("Blip", None)], "Django: LEFT OUTER JOIN (nullable foreign key)")
    equal([(a.name, a.human and a.human.name) for a in Alien.objects.select_related("human").order_by("id")],
          [("Zorg", "Ada"), ("Quux", None), ("Blip", None)], "Django: select_related")
    equal(list(Human.objects.annotate(n=Count("aliens")).order_by("id").values_list("name", "n")),
          [("Ada", 1), ("Grace", 0), ("Edsger", 0)], "Django: reverse LEFT JOIN with Count (Xel, Mork deleted)")
    equal([h.name for h in Human.objects.order_by("id").iterator(chunk_size=2)], ["Ada", "Grace", "Edsger"],
          "Django: iterator() (server-side cursor WITH HOLD)")
    equal(Human.objects.filter(aliens__name="Quux").count(), 0, "Django: reverse join to Quux (Alan deleted)")


def recipes():
    # --- recipe: one query ---
    everyone = list(Human.objects.raw("/* pgsoftdelete: skip=humans */ SELECT * FROM humans ORDER BY id"))
    # --- end recipe ---
    equal([h.name for h in everyone], ["Ada", "Grace", "Alan", "Edsger", "Barbara"], "Django: raw() with a hint")
    # --- recipe: a block of work ---
    with connection.execute_wrapper(pgsoftdelete_skip("humans,aliens")):
        n = Human.objects.filter(name__startswith="A").count()  # Ada and Alan
        pairs = list(Alien.objects.filter(human__isnull=False).values_list("name", "human__name"))
    # --- end recipe ---
    equal(n, 2, "Django execute_wrapper: ORM query with parameters")
    equal(len(pairs), 4, "Django execute_wrapper: join of both tables unfiltered")
    with connection.execute_wrapper(pgsoftdelete_skip("humans")):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM humans")  # no parameters: the comment as is
            equal(cursor.fetchone()[0], 5, "Django execute_wrapper: cursor.execute without parameters")
    equal(Human.objects.count(), 3, "Django: filtered again after the block")
    # The quirk itself: a single % in a query with (even empty) parameters breaks psycopg2.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM humans /*pgsoftdelete.skip='humans%2Caliens'*/", [])
        check(False, "psycopg2 accepted a lone % in a query with parameters")
    except (ValueError, IndexError, TypeError):
        check(True, "")
    # --- recipe: a block of work, in a transaction ---
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL pgsoftdelete.skip = '*'")
        n = Human.objects.count()
    # --- end recipe ---
    equal(n, 5, "Django: SET LOCAL in atomic()")
    equal(Human.objects.count(), 3, "Django: SET LOCAL ended with the transaction")
    # A nested atomic() is a savepoint: rolling it back undoes a SET LOCAL made in it.
    with transaction.atomic():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL pgsoftdelete.skip = 'humans'")
                equal(Human.objects.count(), 5, "Django: SET LOCAL in a nested atomic()")
                raise RuntimeError("roll back to the savepoint")
        except RuntimeError:
            pass
        equal(Human.objects.count(), 3, "Django: ROLLBACK TO SAVEPOINT undid the SET LOCAL")


def same_query():
    query = Human.objects.filter(name__gt="")
    seen = [query.count()]
    # --- recipe: the session ---
    with connection.cursor() as cursor:
        cursor.execute("SET pgsoftdelete.skip = 'humans'")
    everyone = query.count()  # until RESET, on this connection
    with connection.cursor() as cursor:
        cursor.execute("RESET pgsoftdelete.skip")
    # --- end recipe ---
    seen.append(everyone)
    seen.append(query.count())
    equal(seen, [3, 5, 3], "Django: the same query before SET, after SET, after RESET")


def deletes():
    # --- recipe: DELETE counts ---
    aliens = Alien.objects.filter(id__in=[1, 2]).delete()  # (1, {"pgsd_py_app.Alien": 1}): Xel was deleted
    edsger = Human.objects.get(id=4).delete()  # (1, {"pgsd_py_app.Human": 1})
    # --- end recipe ---
    equal(aliens, (1, {"pgsd_py_app.Alien": 1}), "Django: QuerySet.delete() of a live and a deleted alien")
    equal(edsger, (1, {"pgsd_py_app.Human": 1}), "Django: Model.delete()")
    check_soft_deleted("aliens", 1)
    check_soft_deleted("humans", 4)
    # Cascade (Alien.human is CASCADE): Django selects Ada's live aliens and deletes them first.
    reset_seed()
    # --- recipe: DELETE counts, with a cascade ---
    deleted = Human.objects.filter(id__in=[1, 2, 3]).delete()
    # (3, {"pgsd_py_app.Alien": 1, "pgsd_py_app.Human": 2}): Ada's Zorg, Ada, Grace; Alan was deleted already
    # --- end recipe ---
    equal(deleted, (3, {"pgsd_py_app.Alien": 1, "pgsd_py_app.Human": 2}),
          "Django: QuerySet.delete() with a cascade (Zorg; Ada, Grace; Alan already deleted)")
    check_soft_deleted("aliens", 1)
    check_soft_deleted("humans", 1)
    check_soft_deleted("humans", 2)
    equal(Human.objects.filter(id=3).delete(), (0, {}), "Django: delete of a deleted row")
    equal(direct("SELECT count(*) FROM humans")[0][0], 5, "direct: all 5 humans still there")


def refusal():
    try:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE humans")
        check(False, "Django: TRUNCATE humans was not refused")
    except NotSupportedError as e:
        equal(e.__cause__.pgcode, "0A000", "Django: TRUNCATE __cause__.pgcode")
    equal(Human.objects.count(), 3, "Django: the connection answers after the refusal (autocommit)")
    try:
        with transaction.atomic():
            Human.objects.count()
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE aliens")
        check(False, "Django: TRUNCATE aliens was not refused")
    except NotSupportedError as e:
        equal(e.__cause__.pgcode, "0A000", "Django: TRUNCATE in atomic()")
    equal(Alien.objects.count(), 3, "Django: the connection answers after atomic() rolled back")


def run():
    reset_seed()
    try:
        reads()
        recipes()
        same_query()
        refusal()
        deletes()
    finally:
        connection.close()
