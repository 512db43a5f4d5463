from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "akun.roster"
    label = "roster"
    verbose_name = "Dapodik roster"
