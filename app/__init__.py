"""The SPL demo and study app: Gradio UI, inference service and SQLite store (imported lazily)."""
