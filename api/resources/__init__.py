"""The API's resources, one blueprint each (one tag each in the OpenAPI document)."""
