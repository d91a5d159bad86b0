"""The reference: a FastAPI hello endpoint, served like the app (uvicorn, 2 workers, uvloop, httptools)."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
