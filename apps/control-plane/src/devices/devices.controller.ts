import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { DeviceDto, DeviceListDto, DeviceListQueryDto } from './device.dto';
import { DevicesService } from './devices.service';

@ApiTags('devices')
@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  @ApiOperation({ summary: 'List devices (keyset pagination by id)' })
  @ZodResponse({ type: DeviceListDto })
  list(@Query() query: DeviceListQueryDto): Promise<DeviceListDto> {
    return this.devices.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One device' })
  @ZodResponse({ type: DeviceDto })
  get(@Param('id') id: string): Promise<DeviceDto> {
    return this.devices.get(id);
  }
}
