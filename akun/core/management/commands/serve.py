"""`akun serve`: the production WSGI server (gunicorn) for the Akun web app.

Static files are served by the app (whitenoise), so one process is all a school server needs;
put a TLS-terminating proxy in front in production.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from gunicorn.glogging import Logger


def _without_query(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0] if url else url


class AccessLogWithoutQueries(Logger):
    """gunicorn's access log with no query string, in the request line nor in the referer: a
    NISN, NIK, name or birth date in an old link or a client's URL is never written down."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = "{} {} {}".format(
            environ.get("REQUEST_METHOD", "-"),
            _without_query(environ.get("RAW_URI", "")),
            environ.get("SERVER_PROTOCOL", "-"),
        )
        atoms["q"] = "-"
        for key in ("f", "{referer}i", "{http_referer}e", "{raw_uri}e", "{request_uri}e"):
            if key in atoms:
                atoms[key] = _without_query(atoms[key])
        atoms.pop("{query_string}e", None)
        return atoms


class Command(BaseCommand):
    help = "Run Akun under gunicorn (production WSGI server)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.AKUN_HOST)
        parser.add_argument("--port", type=int, default=settings.AKUN_PORT)
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.AKUN_WORKERS,
            help="worker processes; sign-in is CPU-bound (argon2id): one per core",
        )
        parser.add_argument("--threads", type=int, default=1)
        parser.add_argument("--timeout", type=int, default=60)
        parser.add_argument("--access-log", action="store_true", help="log every request")

    def handle(self, *args, **opts):
        from gunicorn.app.base import BaseApplication

        from akun.wsgi import application

        options = {
            "bind": f"{opts['host']}:{opts['port']}",
            "workers": opts["workers"],
            "threads": opts["threads"],
            "timeout": opts["timeout"],
            "worker_class": "gthread" if opts["threads"] > 1 else "sync",
            "accesslog": "-" if opts["access_log"] else None,
            "logger_class": AccessLogWithoutQueries,
            "errorlog": "-",
            "proc_name": "akun",
            # Forked workers must not share the parent's database connections.
            "preload_app": False,
        }

        class AkunApplication(BaseApplication):
            def load_config(self):
                for key, value in options.items():
                    if value is not None:
                        self.cfg.set(key, value)

            def load(self):
                return application

        self.stdout.write(f"Akun on http://{options['bind']}/ with {opts['workers']} workers")
        self.stdout.flush()
        AkunApplication().run()
