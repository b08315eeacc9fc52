"""Core: settings, extensions, security headers, signed tokens and the shared plumbing
(admin navigation, demo loaders, health checks, development services) that the feature
packages hang into."""
