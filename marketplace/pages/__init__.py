"""The web pages people sign in to: server-rendered with Jinja2, partial updates with htmx."""
