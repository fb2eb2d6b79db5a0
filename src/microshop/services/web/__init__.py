"""web: the storefront, server-rendered pages that call the other services' APIs."""
