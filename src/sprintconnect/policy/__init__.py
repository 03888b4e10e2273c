"""Organization policies: versioned Cedar text, validated, published, rolled back, tried."""
