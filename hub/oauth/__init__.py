"""OAuth connections: the org's OAuth apps (`apps`), connecting by consent (`connect`), the
protocol messages built with Authlib and sent through the egress client (`tokens`), and refreshing
tokens one integration at a time across processes (`refresh`).

May import the domain packages (integrations, audit, tenancy, verification, storage, crypto,
egress, sdk); never Flask, the API or the CLI.
"""
