"""Routes: experiments (being written)."""

from wayline.server.endpoint import Api

api = Api("experiments")
