"""Session management service: the Lambda code behind the WebSocket API."""
