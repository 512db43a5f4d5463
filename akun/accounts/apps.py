from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "akun.accounts"
    label = "accounts"
    verbose_name = "Learning accounts"
