"""A tiny Django app over the seed tables (unmanaged models), for check_django.py."""
