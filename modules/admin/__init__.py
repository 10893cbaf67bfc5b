"""The admin module (protocol §5): accounts, admin rights, delegated roles, switches and modules.

Every param is declared with `access=admin(<permission id>)`; the dispatcher checks it.
"""
# Imported in the protocol's order, which `ugene modules` lists; importing declares the params.
from . import users, system, roles  # noqa: F401,I001
from .base import module

__all__ = ["module"]
