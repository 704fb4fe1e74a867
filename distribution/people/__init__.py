"""People and access: invitations, a vendor's users (deactivate, reactivate, unlock)
and passwords (change, forgot, reset), each change with its audit entry.

``invitations`` and ``passwords`` hand out single-use links whose tokens are kept
hashed; ``mail`` sends those links the way every other mail of the app goes out.
"""
