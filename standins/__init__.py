"""Local stand-ins for outside services that no machine here reaches (test and bench
infrastructure, not part of the product)."""
