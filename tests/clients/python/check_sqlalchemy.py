"""SQLAlchemy 1.4 (psycopg2) through the proxy: ORM and Core reads and joins, DELETE counts, the
same query across hint changes, the recipes of RECIPES.md, and a refusal."""
import warnings

from sqlalchemy import Boolean, Column, ForeignKey, Integer, Text, create_engine, delete, event, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, declarative_base, relationship

from common import DB, HOST, PORT, USER, check, check_soft_deleted, direct, equal, reset_seed

Base = declarative_base()


class Human(Base):
    __tablename__ = "humans"
    id = Column(Integer, primary_key=True)
    name = Column(Text, nullable=False)
    is_deleted = Column(Boolean, nullable=False, default=False)


class Alien(Base):
    __tablename__ = "aliens"
    id = Column(Integer, primary_key=True)
    name = Column(Text, nullable=False)
    human_id = Column(Integer, ForeignKey("humans.id"))
    is_deleted = Column(Boolean, nullable=False, default=False)
    human = relationship(Human)


# --- recipe: skip the filter for one query, with an execution option ---
@event.listens_for(Session, "do_orm_execute")
def skip_soft_delete_filter(orm_execute_state):
    if orm_execute_state.execution_options.get("skip_visibility_filter"):
        orm_execute_state.statement = orm_execute_state.statement.prefix_with("/* pgsoftdelete: skip=* */")
# --- end recipe ---


def reads(session):
    equal(session.query(Human).count(), 3, "SQLAlchemy: Query.count()")
    equal(session.scalar(select(func.count()).select_from(Alien)), 3, "SQLAlchemy: select count(*) of aliens")
    equal([h.name for h in session.query(Human).order_by(Human.id)], ["Ada", "Grace", "Edsger"],
          "SQLAlchemy: live humans")
    equal(session.query(Human).filter(Human.id >= 2).count(), 2, "SQLAlchemy: a filter with a parameter")
    rows = session.query(Human.name, Alien.name).join(Alien, Alien.human_id == Human.id).all()
    equal(rows, [("Ada", "Zorg")], "SQLAlchemy: JOIN")
    rows = session.execute(select(Alien.name, Human.name).outerjoin(Alien.human).order_by(Alien.id)).all()
    equal(rows, [("Zorg", "Ada"), ("Quux", None), ("Blip", None)], "SQLAlchemy: aliens LEFT JOIN humans")
    rows = session.query(Human.name, Alien.name).outerjoin(Alien, Alien.human_id == Human.id).order_by(Human.id).all()
    equal(rows, [("Ada", "Zorg"), ("Grace", None), ("Edsger", None)], "SQLAlchemy: humans LEFT JOIN aliens")
    streamed = session.execute(select(Human.name).order_by(Human.id).execution_options(stream_results=True))
    equal(streamed.scalars().all(), ["Ada", "Grace", "Edsger"], "SQLAlchemy: stream_results (server-side cursor)")
    equal([a.human.name if a.human else None for a in session.query(Alien).order_by(Alien.id)],
          ["Ada", None, None], "SQLAlchemy: lazy-loaded relationship (Quux's Alan is deleted)")


def recipes(session, engine):
    # --- recipe: one query, through the hook ---
    everyone = session.query(Human).execution_options(skip_visibility_filter=True).all()
    # --- end recipe ---
    equal(len(everyone), 5, "SQLAlchemy hook: Query with skip_visibility_filter")
    equal(session.query(Human).count(), 3, "SQLAlchemy hook: the next query is filtered again")
    # --- recipe: one query, through the hook (2.0 style) ---
    stmt = select(Human).order_by(Human.id).execution_options(skip_visibility_filter=True)
    everyone = session.execute(stmt).scalars().all()
    # --- end recipe ---
    equal([h.is_deleted for h in everyone], [False, False, True, False, True], "SQLAlchemy hook: select()")
    # --- recipe: one query, a hint comment ---
    n = session.query(Human).prefix_with("/* pgsoftdelete: skip=* */").count()
    rows = session.execute(select(Human).suffix_with("/* pgsoftdelete: skip=humans */")).scalars().all()
    # --- end recipe ---
    equal(n, 5, "SQLAlchemy: Query.prefix_with(hint).count()")
    equal(len(rows), 5, "SQLAlchemy: select().suffix_with(hint)")
    equal(session.query(Human).filter(Human.id > 0).prefix_with("/* pgsoftdelete: only_deleted=humans */").count(), 2,
          "SQLAlchemy: prefix_with(only_deleted hint) with a parameter")
    session.rollback()
    # --- recipe: a block of work ---
    with Session(engine) as session, session.begin():
        session.execute(text("SET LOCAL pgsoftdelete.skip = '*'"))
        n = session.query(Human).count()
        pairs = session.query(Human.name, Alien.name).join(Alien, Alien.human_id == Human.id).count()
    # --- end recipe ---
    equal((n, pairs), (5, 4), "SQLAlchemy: SET LOCAL in a transaction (humans, pairs)")
    with Session(engine) as session:
        equal(session.query(Human).count(), 3, "SQLAlchemy: SET LOCAL ended with its transaction")


def same_query(session):
    query = session.query(Human).filter(Human.name != "")
    seen = [query.count()]
    session.execute(text("SET pgsoftdelete.skip = 'humans'"))
    seen.append(query.count())
    session.execute(text("RESET pgsoftdelete.skip"))
    seen.append(query.count())
    equal(seen, [3, 5, 3], "SQLAlchemy: the same query before SET, after SET, after RESET")


def pooled_setting(engine):
    """A session-level SET runs inside the Session's transaction: a rollback (also the pool's, when a
    session closes uncommitted) undoes it; once committed, it stays on the pooled connection."""
    with Session(engine) as session:
        session.execute(text("SET pgsoftdelete.skip = 'humans'"))
        equal(session.query(Human).count(), 5, "SQLAlchemy: SET in the session's transaction")
    with Session(engine) as session:
        equal(session.query(Human).count(), 3, "SQLAlchemy: the pool's rollback undid the SET")
        session.execute(text("SET pgsoftdelete.skip = 'humans'"))
        session.commit()
    with Session(engine) as session:
        equal(session.query(Human).count(), 5, "SQLAlchemy: a committed SET outlives the session (same pooled connection)")
        session.execute(text("RESET pgsoftdelete.skip"))
        session.commit()
    with Session(engine) as session:
        equal(session.query(Human).count(), 3, "SQLAlchemy: after RESET, committed")


def deletes(engine):
    with Session(engine) as session:
        # --- recipe: DELETE counts ---
        result = session.execute(delete(Human).where(Human.id == 1))  # result.rowcount: 1
        n = session.query(Human).filter(Human.id.in_([1, 2, 3])).delete(synchronize_session=False)  # 1: Grace
        session.commit()
        # --- end recipe ---
        equal((result.rowcount, n), (1, 1), "SQLAlchemy: DELETE rowcounts")
        check_soft_deleted("humans", 1)
        check_soft_deleted("humans", 2)
        # The unit of work checks the count of its own DELETE: a mismatch would warn.
        with warnings.catch_warnings():
            warnings.simplefilter("error", sa_exc.SAWarning)
            # --- recipe: DELETE of an object ---
            edsger = session.get(Human, 4)
            session.delete(edsger)
            session.commit()  # the unit of work checks that its DELETE matched 1 row
            # --- end recipe ---
        check_soft_deleted("humans", 4)
        with warnings.catch_warnings():  # two objects in one flush: one executemany (count not checked with psycopg2)
            warnings.simplefilter("error", sa_exc.SAWarning)
            for alien in session.query(Alien).filter(Alien.id.in_([3, 4])):
                session.delete(alien)
            session.commit()
        check_soft_deleted("aliens", 3)
        check_soft_deleted("aliens", 4)
        equal(session.query(Human).count(), 0, "SQLAlchemy: no live humans left")
    with engine.begin() as conn:
        result = conn.execute(Alien.__table__.delete().where(Alien.__table__.c.id.in_([1, 2])))
        equal(result.rowcount, 1, "SQLAlchemy Core: DELETE rowcount (one of two live)")
        equal(conn.execute(Alien.__table__.delete()).rowcount, 0, "SQLAlchemy Core: nothing live left")
    check_soft_deleted("aliens", 1)
    equal(direct("SELECT count(*) FROM humans")[0][0] + direct("SELECT count(*) FROM aliens")[0][0], 10,
          "direct: every row still there")


def refusal(session):
    try:
        session.execute(text("TRUNCATE humans"))
        check(False, "SQLAlchemy: TRUNCATE humans was not refused")
    except sa_exc.NotSupportedError as e:
        equal(e.orig.pgcode, "0A000", "SQLAlchemy: TRUNCATE e.orig.pgcode")
    session.rollback()
    equal(session.query(Human).count(), 3, "SQLAlchemy: the session answers after the rollback")


def run():
    reset_seed()
    engine = create_engine(f"postgresql+psycopg2://{USER}@{HOST}:{PORT}/{DB}", future=True)
    try:
        with Session(engine) as session:
            reads(session)
            recipes(session, engine)
        with Session(engine) as session:
            same_query(session)
            refusal(session)
        pooled_setting(engine)
        deletes(engine)
    finally:
        engine.dispose()
