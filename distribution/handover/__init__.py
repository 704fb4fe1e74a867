"""The hand-over wing: offers, the pool, work on held leads, offer links and
the sweeper that moves expired items on. ``base`` holds what they share."""
