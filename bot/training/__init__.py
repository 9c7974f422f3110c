"""The classifier's model on disk: training with scikit-learn, evaluation, and the cache the
service loads the compact model from (handlers.classification only applies it)."""
