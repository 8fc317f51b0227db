"""Search indexes: what each SearchParameter extracts from a resource at write time, as typed rows."""
