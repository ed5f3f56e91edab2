// Winograd F(2x2, 3x3): where invocation `index` = channel * P.tiles + tile sits. Tiles run over the
// batch, each image's in rows of P.tiles_w; tile (th, tw) covers outputs 2th..2th+1, 2tw..2tw+1.
struct Tile { channel: u32, image: u32, th: u32, tw: u32 }

fn tile_of(index: u32) -> Tile {
  let t = index % P.tiles;
  return Tile(index / P.tiles, t / (P.tiles_w * P.tiles_h), (t / P.tiles_w) % P.tiles_h, t % P.tiles_w);
}
