"""Operations: the health and metrics endpoint, metric objects and log configuration."""
