"""Create the PostgreSQL test database when missing; exit 1 when no server is reachable."""

import sys

import psycopg
from psycopg import sql


def main(url: str) -> int:
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.get("dbname", "involve_test")
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"Created database {name}")
    except psycopg.OperationalError as error:
        print(f"PostgreSQL not reachable at {url}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
