"""The position token sealed with the marketplace's secret: opaque in fact, so it tells no
caller how many events each context holds, and any process of the marketplace can open it."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from marketplace.kernel.position import BadToken, Positions

MAX_POSITION = 2**63 - 1


class PositionTokens:
    def __init__(self, secret: str) -> None:
        key = hashlib.sha256(f"position-token:{secret}".encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, positions: Positions) -> str:
        text = ",".join(f"{ctx}:{pos}" for ctx, pos in sorted(positions.items()))
        return self._fernet.encrypt(text.encode()).decode()

    def open(self, token: str) -> Positions:
        try:
            text = self._fernet.decrypt(token.encode()).decode()
            pairs = [item.split(":") for item in text.split(",") if item]
            positions = {ctx: int(pos) for ctx, pos in pairs}
        except (InvalidToken, UnicodeError, ValueError) as error:
            raise BadToken("min_position is not a position this marketplace issued") from error
        if not positions or any(not 0 <= p <= MAX_POSITION for p in positions.values()):
            raise BadToken("min_position is not a position this marketplace issued")
        return positions
