// GENERATED from protos/tensorboard/event.proto, protos/tensorboard/summary.proto by libs/telemetry/src/tensorboard-proto.gen.ts. Do not edit.
// Regenerate: node --import tsx libs/telemetry/src/tensorboard-proto.gen.ts (tensorboard-proto.test.ts checks it).
import type { INamespace } from 'protobufjs';

/** The messages of package tensorflow, for protobuf.Root.fromJSON. */
export const TENSORBOARD_PROTO: INamespace = {
  "nested": {
    "tensorflow": {
      "nested": {
        "Event": {
          "oneofs": {
            "what": {
              "oneof": [
                "file_version",
                "summary"
              ]
            }
          },
          "fields": {
            "wall_time": {
              "type": "double",
              "id": 1
            },
            "step": {
              "type": "int64",
              "id": 2
            },
            "file_version": {
              "type": "string",
              "id": 3
            },
            "summary": {
              "type": "Summary",
              "id": 5
            }
          },
          "reserved": [
            [
              4,
              4
            ],
            [
              6,
              10
            ]
          ]
        },
        "Summary": {
          "fields": {
            "value": {
              "rule": "repeated",
              "type": "Value",
              "id": 1
            }
          },
          "nested": {
            "Image": {
              "fields": {
                "height": {
                  "type": "int32",
                  "id": 1
                },
                "width": {
                  "type": "int32",
                  "id": 2
                },
                "colorspace": {
                  "type": "int32",
                  "id": 3
                },
                "encoded_image_string": {
                  "type": "bytes",
                  "id": 4
                }
              }
            },
            "Value": {
              "oneofs": {
                "value": {
                  "oneof": [
                    "simple_value",
                    "image"
                  ]
                }
              },
              "fields": {
                "tag": {
                  "type": "string",
                  "id": 1
                },
                "simple_value": {
                  "type": "float",
                  "id": 2
                },
                "image": {
                  "type": "Image",
                  "id": 4
                }
              },
              "reserved": [
                [
                  3,
                  3
                ],
                [
                  5,
                  9
                ]
              ]
            }
          }
        }
      }
    }
  }
};

/** tensorflow.Event as decodeEvent returns it (defaults filled in; a oneof's name says which member is set). */
export interface Event {
  wall_time: number;
  step: number;
  /** oneof what */
  file_version?: string;
  /** oneof what */
  summary?: Summary;
  /** Which member of oneof what is set. */
  what?: 'file_version' | 'summary';
}

/** tensorflow.Summary as decodeEvent returns it (defaults filled in). */
export interface Summary {
  value: SummaryValue[];
}

/** tensorflow.Summary.Image as decodeEvent returns it (defaults filled in). */
export interface SummaryImage {
  height: number;
  width: number;
  colorspace: number;
  encoded_image_string: Uint8Array;
}

/** tensorflow.Summary.Value as decodeEvent returns it (defaults filled in; a oneof's name says which member is set). */
export interface SummaryValue {
  tag: string;
  /** oneof value */
  simple_value?: number;
  /** oneof value */
  image?: SummaryImage;
  /** Which member of oneof value is set. */
  value?: 'simple_value' | 'image';
}
