"""Every SQLAlchemy line of SafePlace: models, the session factory, one module per aggregate."""
