//! Loaders from real inventory formats into the graph.
