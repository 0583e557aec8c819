"""Reporters: the terminal view, Markdown (step summary), JSON and JUnit XML of one verification."""
