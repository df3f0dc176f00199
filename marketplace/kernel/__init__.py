"""Building blocks every layer uses: money, errors, accounts, keys, positions."""
