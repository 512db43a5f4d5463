"""Options that other apps add to `akun services add` (OEP-49: they register here through
akun.sso.api at start-up; sso never imports them). OneRoster adds its org grants."""

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class ServiceOption:
    # add_arguments(parser) for the `add` subcommand
    add_arguments: Callable
    # after_add(service, options, actor) -> dict of lines to print; runs in the transaction
    # that registered the service, so a refusal (ValueError) registers nothing.
    after_add: Callable


_options: list[ServiceOption] = []


def register_service_option(add_arguments: Callable, after_add: Callable) -> None:
    _options.append(ServiceOption(add_arguments, after_add))


def service_options() -> list[ServiceOption]:
    return list(_options)
